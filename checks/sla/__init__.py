"""SLA compliance over ``closed_loop_leads``: per lead, owner, team and month, ignored leads, MQL commitment."""
