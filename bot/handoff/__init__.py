"""Handing a conversation to a person: escalation triggers, the agent queue, agent accounts."""
