"""Salesforce extraction with simple-salesforce: REST and Bulk 2.0 pages, incremental cursors, deletes."""
