"""Rasa SDK actions: thin adapters that read slots, call `bot/`, and answer via domain responses.

The policy file and the account source (ACCOUNTS_SOURCE and the core-banking settings) are
validated when the action server imports this package, so an invalid policy.yml or setting
stops start-up with a message naming the bad key.
"""
import os as _os

from bot.accounts.settings import load_accounts_settings as _load_accounts_settings
from bot.config import PROJECT_ROOT as _ROOT
from bot.negotiation import load_policy as _load_policy

_load_policy(_os.environ.get("POLICY_FILE", _ROOT / "policy.yml"))
_load_accounts_settings()
