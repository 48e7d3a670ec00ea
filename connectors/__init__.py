"""Extraction from Salesforce and HubSpot, and the local CRM sandbox that speaks their wire formats."""
