"""Data-quality and SLA checks, and alerting."""
