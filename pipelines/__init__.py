"""Dagster assets, resources, schedules, sensors and the warehouse model of crm-loop."""
