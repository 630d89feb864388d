"""Rasa SDK actions: thin adapters that read slots, call `bot/`, and answer via domain responses.

The policy file is validated when the action server imports this package, so an
invalid policy.yml stops start-up with a message naming the bad key.
"""
import os as _os

from bot.config import PROJECT_ROOT as _ROOT
from bot.negotiation import load_policy as _load_policy

_load_policy(_os.environ.get("POLICY_FILE", _ROOT / "policy.yml"))
