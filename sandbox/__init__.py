"""A local, stateful Salesforce + HubSpot stand-in that speaks the real wire formats over real sockets."""
