"""Conversation-outcome evaluation: simulated borrowers (personas) talking to the running assistant.

`evaluation.personas` holds the personas as data, `evaluation.simulator` drives one
persona through a conversation and measures it, `evaluation.report` runs them all
(`python -m evaluation.report`) and prints the outcome tables.
"""
