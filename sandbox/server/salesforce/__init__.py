"""The Salesforce side of the CRM sandbox (REST, SOAP login and Bulk API 2.0 wire formats)."""
