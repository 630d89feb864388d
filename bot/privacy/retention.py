"""How long each kind of data is kept, and the moments before which it goes (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.config import Settings


@dataclass(frozen=True)
class RetentionPeriods:
    """Conversation texts are kept for days; the records a regulator may ask for, for years.

    Records (offers, agreements, promises, verification audit, state changes, escalations) are
    kept `record_years` after the last activity on their loan (docs/data-rules.md)."""

    conversation_text_days: int = 730
    record_years: int = 6

    def text_cutoff(self, now: datetime) -> datetime:
        """Conversation texts from before this moment are past their retention."""
        return now - timedelta(days=self.conversation_text_days)

    def record_cutoff(self, now: datetime) -> datetime:
        """Records whose last activity is before this moment are past their retention."""
        return years_before(now, self.record_years)


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` earlier (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def retention_from_settings(settings: Settings) -> RetentionPeriods:
    return RetentionPeriods(settings.conversation_text_retention_days, settings.record_retention_years)


def epoch_seconds(moment: datetime) -> float:
    """A naive UTC datetime (how the app database stores time) as Rasa's event timestamp."""
    return moment.replace(tzinfo=timezone.utc).timestamp()


def utc_now() -> datetime:
    """Now as the app database stores time: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
