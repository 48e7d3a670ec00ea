"""One digest per run to Slack, e-mail and a JSON webhook; escalation to a second channel."""
