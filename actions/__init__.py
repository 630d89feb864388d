"""Rasa SDK actions: thin adapters that read slots, call `bot/`, and answer via domain responses."""
