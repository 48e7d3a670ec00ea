"""The HubSpot side of the CRM sandbox (CRM v3/v4 wire formats)."""
