"""Dagster assets: raw CRM tables, canonical models and the closed-loop table."""
