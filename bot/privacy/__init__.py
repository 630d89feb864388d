"""Data rules: retention periods, forgetting a borrower on request, the scheduled purge, the audit export.

`forget` and `purge` work on the application database and on Rasa's tracker store (through its
`events` table, without importing Rasa); `purge_from_settings` is the scheduler's entry point.
See docs/data-rules.md.
"""
from bot.privacy.audit import write_audit
from bot.privacy.forget import UnknownReference, forget
from bot.privacy.purge import purge, purge_from_settings
from bot.privacy.retention import RetentionPeriods, retention_from_settings
from bot.privacy.tracker_events import TrackerEvents

__all__ = ["RetentionPeriods", "TrackerEvents", "UnknownReference", "forget", "purge", "purge_from_settings",
           "retention_from_settings", "write_audit"]
