"""The account panel's Outreach section, as the console shows it: `bot.outreach.account_view`'s
view turned into sentences and labelled rows. A status line first (paused, breathing space, active),
then the next contacts and the latest ones with the rule that refused, in words.

Times are shown in the borrower's own zone when it is known, and always in UTC (the schedule's clock).
Labels and sentences are in the agent's language (channels/console/wording.py).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.outreach.account_view import OutreachView, PastContact
from bot.outreach.models import AGENT_PAUSE, BREATHING_SPACE
from bot.outreach.rules import zone_of
from channels.console.wording import words

REASONS = {"promise_reminder": "Reminder: promise due",
           "instalment_reminder": "Reminder: instalment due",
           "missed_promise": "Follow-up: missed promise",
           "missed_instalment": "Follow-up: missed instalment",
           "reengagement": "Re-engagement: unfinished talk",
           "risk_checkin": "Check-in: early-warning risk"}
CHANNELS = {"telegram": "Telegram", "socketio": "Web chat"}
RULES = {"opted_out": "the borrower opted out of this channel",
         "not_own_chat": "not the verified borrower's own chat",
         "vulnerable": "the borrower may be vulnerable: a person decides",
         "dispute_open": "a dispute or complaint is open",
         "handoff_open": "the conversation was with a person (handoff open)",
         "hold:agent_pause": "outreach paused by an agent",
         "hold:breathing_space": "breathing space",
         "cap:per_day": "daily contact limit reached",
         "cap:per_7_days": "7-day contact limit reached",
         "no_common_hours": "time zone unknown and no hour is allowed in every zone served"}
OUTCOMES = {"sent": ("Sent", "good"), "rescheduled": ("Refused, moved later", "info"),
            "dropped": ("Refused, dropped", "bad"), "no_longer_due": ("Dropped, no longer due", "neutral"),
            "retrying": ("Send failed, will retry", "warn"), "failed": ("Send failed, gave up", "bad")}
STATUS_ACTIVE = ("Active", "good")
STATUS_PAUSED = ("Paused", "warn")
STATUS_BREATHING = ("Breathing space", "warn")


def outreach_json(view: OutreachView, *, handoff_open: bool, lang: str = "en") -> dict[str, Any]:
    """The section's data in the agent's language; `handoff_open` is whether the escalation being read is
    still open."""
    return {
        "status": _status(view, handoff_open, lang),
        "paused_by_agent": any(h.kind == AGENT_PAUSE for h in view.holds),
        "next": [{"reason": _reason(c.reason, lang), "channel": _channel(c.channel, lang),
                  **_when(c.due_at, c.time_zone), "retried": c.attempts > 0} for c in view.next_contacts],
        "scheduled_total": view.scheduled_total,
        "latest": [_past(line, lang) for line in view.latest],
    }


def rule_words(rule: str | None, lang: str = "en") -> str | None:
    """A contact rule as an agent reads it ("quiet_hours:CN" -> "quiet hours (CN rules)")."""
    if not rule:
        return None
    if rule.startswith("quiet_hours:"):
        return words(lang, "quiet hours ({region} rules)", region=rule.split(":", 1)[1])
    return words(lang, RULES.get(rule, rule.replace("_", " ")))


def _status(view: OutreachView, handoff_open: bool, lang: str) -> dict[str, Any]:
    breathing = [h for h in view.holds if h.kind == BREATHING_SPACE]
    pauses = [h for h in view.holds if h.kind == AGENT_PAUSE]
    if breathing:
        hold = breathing[0]
        text = (words(lang, "Breathing space until {day}", day=hold.ends_at.date().isoformat()) if hold.ends_at
                else words(lang, "Breathing space until lifted"))
        label, tone = STATUS_BREATHING
    elif pauses:
        hold = pauses[0]
        text = words(lang, "Outreach paused by {agent} until lifted", agent=hold.created_by)
        label, tone = STATUS_PAUSED
    else:
        hold = None
        text = words(lang, "Outreach active")
        label, tone = STATUS_ACTIVE
    notes = []
    if hold is not None:
        notes.append(words(lang, "Since {moment}", moment=_utc_text(hold.starts_at))
                     + (f" · {hold.note}" if hold.note else ""))
    if breathing and pauses:
        notes.append(words(lang, "Also paused by {agent}", agent=pauses[0].created_by)
                     + (f" · {pauses[0].note}" if pauses[0].note else ""))
    if handoff_open:
        notes.append(words(lang, "While this escalation is open, the contact rules refuse every proactive message."))
    return {"label": words(lang, label), "tone": tone, "text": text, "notes": notes}


def _past(line: PastContact, lang: str) -> dict[str, Any]:
    label, tone = OUTCOMES.get(line.outcome, (line.outcome.replace("_", " ").capitalize(), "neutral"))
    why = rule_words(line.rule, lang)
    if line.outcome == "no_longer_due":
        why = words(lang, "the promise or plan changed before it was due")
    return {"reason": _reason(line.reason, lang), "channel": _channel(line.channel, lang),
            **_when(line.at, line.time_zone), "outcome": line.outcome, "label": words(lang, label), "tone": tone,
            "rule": line.rule, "why": why, "moved_to": _when(line.moved_to, line.time_zone) if line.moved_to else None}


def _reason(reason: str, lang: str) -> str:
    return words(lang, REASONS.get(reason, reason.replace("_", " ").capitalize()))


def _channel(channel: str, lang: str) -> str:
    return words(lang, CHANNELS.get(channel, channel))


def _when(moment: datetime, time_zone: str | None) -> dict[str, str | None]:
    """The instant in the borrower's zone when known ("2026-12-02 09:00 Asia/Shanghai", also as its
    wall time and zone apart) and in UTC."""
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    zone = zone_of(time_zone)
    wall = f"{aware.astimezone(zone):%Y-%m-%d %H:%M}" if zone is not None else None
    return {"at": aware.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "local": f"{wall} {time_zone}" if wall else None, "local_time": wall,
            "zone": time_zone if wall else None, "utc": _utc_text(aware)}


def _utc_text(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
