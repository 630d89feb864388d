"""The KPIs as tables: daily SQL rows rolled into periods (day or ISO week), sums turned into rates.

Pure functions over plain rows; no database here. A `Table` is what the page shows three ways:
as a chart, as an HTML table of the same numbers, and as a CSV download.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Iterable

from bot.analytics.queries import DPD_BUCKETS, DayRange

DAY, WEEK = "day", "week"
GRAINS = (DAY, WEEK)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "count"  # count | rate | seconds | money | text


@dataclass(frozen=True)
class Chart:
    """How to draw a table: one line (or bar group) per `series` column against the `x` column."""

    x: str
    series: tuple[str, ...]
    kind: str = "line"  # line | bar
    split: str | None = None  # a text column whose values become the series (one series column then)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple] = field(default_factory=list)
    chart: Chart | None = None

    def records(self) -> list[dict]:
        return [dict(zip((c.key for c in self.columns), row)) for row in self.rows]


@dataclass(frozen=True)
class Period:
    label: str      # 2026-11-28 or 2026-W48
    first: date     # clipped to the range
    last: date


def periods(days: DayRange, grain: str) -> list[Period]:
    """The days, or the ISO weeks (Monday to Sunday), that make up the range, clipped to it."""
    if grain not in GRAINS:
        raise ValueError(f"grain is one of {', '.join(GRAINS)}")
    found: list[Period] = []
    day = days.first
    while day <= days.last:
        if grain == DAY:
            found.append(Period(day.isoformat(), day, day))
            day += timedelta(days=1)
            continue
        year, week, weekday = day.isocalendar()
        last = min(day + timedelta(days=7 - weekday), days.last)
        found.append(Period(f"{year}-W{week:02d}", day, last))
        day = last + timedelta(days=1)
    return found


def period_label(day: str, grain: str) -> str:
    if grain == DAY:
        return day
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def rate(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """numerator / denominator to four places; None when there is nothing to divide by."""
    if not denominator:
        return None
    return round((numerator or 0) / denominator, 4)


def mean(total: float | int | None, count: int | None) -> float | None:
    if not count:
        return None
    return round((total or 0) / count, 1)


def roll_up(rows: Iterable[dict], key: Callable[[dict], tuple], sums: Iterable[str]) -> dict[tuple, dict]:
    """Group rows by `key` and add up the `sums` fields (NULL counts as 0)."""
    sums = tuple(sums)
    grouped: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(sums, 0))
    for row in rows:
        totals = grouped[key(row)]
        for name in sums:
            totals[name] += row.get(name) or 0
    return dict(grouped)


def _by_period(rows: list[dict], grain: str, all_periods: list[Period], sums: Iterable[str]
               ) -> list[tuple[tuple, dict]]:
    """Totals per period, every period of the range included (an empty one with zeros)."""
    sums = tuple(sums)
    grouped = roll_up(rows, lambda row: (period_label(row["day"], grain),), sums)
    for period in all_periods:
        grouped.setdefault((period.label,), dict.fromkeys(sums, 0))
    return sorted(grouped.items())


OUTCOME_SUMS = ("conversations", "verified", "contained", "returned", "contained_returned", "promised", "agreed")


def conversation_tables(rows: list[dict], grain: str, all_periods: list[Period]) -> list[Table]:
    """Conversations started, verification, containment beside repeat contact, promise and agreement rates."""
    per_period = _by_period(rows, grain, all_periods, OUTCOME_SUMS)
    started = Table("conversations", "Conversations started",
                    (Column("period", "Period", "text"), Column("conversations", "Conversations")),
                    [(key[0], s["conversations"]) for key, s in per_period],
                    Chart("period", ("conversations",), "bar"))
    verification = Table(
        "verification", "Verification rate (right-party contact)",
        (Column("period", "Period", "text"), Column("conversations", "Conversations"),
         Column("verified", "Verified"), Column("verification_rate", "Verification rate", "rate")),
        [(key[0], s["conversations"], s["verified"], rate(s["verified"], s["conversations"]))
         for key, s in per_period],
        Chart("period", ("verification_rate",), "line"))
    containment = Table(
        "containment", "Bot containment and repeat contact within 7 days",
        (Column("period", "Period", "text"), Column("conversations", "Conversations"),
         Column("contained", "Without an agent"), Column("containment_rate", "Containment rate", "rate"),
         Column("returned", "Back within 7 days"), Column("repeat_rate", "Repeat-contact rate", "rate"),
         Column("contained_repeat_rate", "Repeat rate of contained", "rate")),
        [(key[0], s["conversations"], s["contained"], rate(s["contained"], s["conversations"]), s["returned"],
          rate(s["returned"], s["conversations"]), rate(s["contained_returned"], s["contained"]))
         for key, s in per_period],
        Chart("period", ("containment_rate", "repeat_rate"), "line"))
    promises = Table(
        "promise_to_pay", "Promise-to-pay rate",
        (Column("period", "Period", "text"), Column("verified", "Verified conversations"),
         Column("promised", "With a promise"), Column("promise_rate", "Promise-to-pay rate", "rate")),
        [(key[0], s["verified"], s["promised"], rate(s["promised"], s["verified"])) for key, s in per_period],
        Chart("period", ("promise_rate",), "line"))
    agreements = Table(
        "agreements", "Agreement rate",
        (Column("period", "Period", "text"), Column("verified", "Verified conversations"),
         Column("agreed", "With a signed agreement"), Column("agreement_rate", "Agreement rate", "rate")),
        [(key[0], s["verified"], s["agreed"], rate(s["agreed"], s["verified"])) for key, s in per_period],
        Chart("period", ("agreement_rate",), "line"))
    return [started, verification, containment, promises, agreements]


def breakdown_tables(rows: list[dict]) -> list[Table]:
    """The conversation KPIs over the whole range, by language and by channel of the conversation."""
    tables = []
    for dimension, title in (("language", "By language"), ("channel", "By channel")):
        grouped = sorted(roll_up(rows, lambda row: (row[dimension],), OUTCOME_SUMS).items())
        tables.append(Table(
            f"by_{dimension}", f"Conversation KPIs {title.lower()}",
            (Column(dimension, dimension.capitalize(), "text"), Column("conversations", "Conversations"),
             Column("verification_rate", "Verification rate", "rate"),
             Column("containment_rate", "Containment rate", "rate"),
             Column("repeat_rate", "Repeat-contact rate", "rate"),
             Column("promise_rate", "Promise-to-pay rate", "rate"),
             Column("agreement_rate", "Agreement rate", "rate")),
            [(key[0], s["conversations"], rate(s["verified"], s["conversations"]),
              rate(s["contained"], s["conversations"]), rate(s["returned"], s["conversations"]),
              rate(s["promised"], s["verified"]), rate(s["agreed"], s["verified"])) for key, s in grouped],
            Chart(dimension, ("verification_rate", "containment_rate", "promise_rate"), "bar")))
    return tables


def handoff_table(rows: list[dict], outcome_rows: list[dict], grain: str) -> Table:
    """Handoffs per period and reason, over the conversations started in that period."""
    started = roll_up(outcome_rows, lambda row: (period_label(row["day"], grain),), ("conversations",))
    handed = sorted(roll_up(rows, lambda row: (period_label(row["day"], grain), row["reason"]),
                            ("handed_off",)).items())
    return Table(
        "handoffs", "Handoff rate by reason",
        (Column("period", "Period", "text"), Column("reason", "Reason", "text"), Column("handed_off", "Handed off"),
         Column("conversations", "Conversations"), Column("handoff_rate", "Handoff rate", "rate")),
        [(period, reason, s["handed_off"], started.get((period,), {}).get("conversations", 0),
          rate(s["handed_off"], started.get((period,), {}).get("conversations", 0)))
         for (period, reason), s in handed],
        Chart("period", ("handoff_rate",), "bar", split="reason"))


def kept_promise_tables(rows: list[dict], grain: str, all_periods: list[Period]) -> list[Table]:
    """Kept-promise rate per period, and over the range by the promise conversation's language and channel."""
    sums = ("settled", "kept", "partly_kept", "broken")
    columns = (Column("settled", "Promises settled"), Column("kept", "Kept"), Column("partly_kept", "Partly kept"),
               Column("broken", "Broken"), Column("kept_rate", "Kept-promise rate", "rate"))

    def values(s: dict) -> tuple:
        return s["settled"], s["kept"], s["partly_kept"], s["broken"], rate(s["kept"], s["settled"])

    tables = [Table("kept_promises", "Kept-promise rate", (Column("period", "Period", "text"), *columns),
                    [(key[0], *values(s)) for key, s in _by_period(rows, grain, all_periods, sums)],
                    Chart("period", ("kept_rate",), "line"))]
    for dimension in ("language", "channel"):
        grouped = sorted(roll_up(rows, lambda row: (row[dimension],), sums).items())
        tables.append(Table(f"kept_promises_by_{dimension}", f"Kept-promise rate by {dimension}",
                            (Column(dimension, dimension.capitalize(), "text"), *columns),
                            [(key[0], *values(s)) for key, s in grouped]))
    return tables


def agent_time_tables(rows: list[dict], grain: str, all_periods: list[Period]) -> list[Table]:
    sums = ("escalations", "replied", "reply_seconds", "handled", "handle_seconds")
    columns = (Column("escalations", "Escalations"), Column("replied", "Replied"),
               Column("mean_first_reply_seconds", "Mean time to first reply (s)", "seconds"),
               Column("handled", "Closed after a claim"),
               Column("mean_handle_seconds", "Mean handle time (s)", "seconds"))

    def values(s: dict) -> tuple:
        return (s["escalations"], s["replied"], mean(s["reply_seconds"], s["replied"]), s["handled"],
                mean(s["handle_seconds"], s["handled"]))

    tables = [Table("agent_times", "Time to first agent reply and handle time",
                    (Column("period", "Period", "text"), *columns),
                    [(key[0], *values(s)) for key, s in _by_period(rows, grain, all_periods, sums)],
                    Chart("period", ("mean_first_reply_seconds", "mean_handle_seconds"), "line"))]
    for dimension in ("language", "channel"):
        grouped = sorted(roll_up(rows, lambda row: (row[dimension],), sums).items())
        tables.append(Table(f"agent_times_by_{dimension}", f"Agent times by {dimension}",
                            (Column(dimension, dimension.capitalize(), "text"), *columns),
                            [(key[0], *values(s)) for key, s in grouped]))
    return tables


def money(cents: int | None) -> str:
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def concession_table(rows: list[dict]) -> Table:
    grouped = sorted(roll_up(rows, lambda row: (row["authority"], row["rule"], row["policy_version"]),
                             ("agreements", "waived_fees_cents", "waived_interest_cents")).items())
    return Table(
        "concessions", "Concessions granted (signed agreements) by authority, rule and policy version",
        (Column("authority", "Authority", "text"), Column("rule", "Rule", "text"),
         Column("policy_version", "Policy version", "text"), Column("agreements", "Agreements"),
         Column("waived_fees", "Waived fees", "money"), Column("waived_interest", "Waived interest", "money")),
        [(authority, rule, version, s["agreements"], money(s["waived_fees_cents"]),
          money(s["waived_interest_cents"])) for (authority, rule, version), s in grouped],
        Chart("authority", ("waived_fees", "waived_interest"), "bar"))


def contact_tables(opt_out_rows: list[dict], attempt_rows: list[dict], grain: str,
                   all_periods: list[Period]) -> list[Table]:
    outs = dict(_by_period(opt_out_rows, grain, all_periods, ("opt_outs",)))
    attempts = dict(_by_period(attempt_rows, grain, all_periods, ("attempts", "refused")))
    labels = sorted(set(outs) | set(attempts))
    per_period = Table(
        "contact_policy", "Opt-outs and contact-policy refusals",
        (Column("period", "Period", "text"), Column("opt_outs", "Opt-outs"),
         Column("attempts", "Follow-up attempts"), Column("refused", "Refused by a rule"),
         Column("refusal_rate", "Refusal rate", "rate")),
        [(key[0], outs.get(key, {}).get("opt_outs", 0), attempts.get(key, {}).get("attempts", 0),
          attempts.get(key, {}).get("refused", 0),
          rate(attempts.get(key, {}).get("refused", 0), attempts.get(key, {}).get("attempts", 0)))
         for key in labels],
        Chart("period", ("opt_outs", "refused"), "bar"))
    refused = sorted(roll_up([row for row in attempt_rows if row["refused"]], lambda row: (row["channel"], row["rule"]),
                             ("refused",)).items())
    by_rule = Table("refusals_by_rule", "Contact-policy refusals by channel and rule",
                    (Column("channel", "Channel", "text"), Column("rule", "Rule", "text"),
                     Column("refused", "Refused")),
                    [(channel, rule, s["refused"]) for (channel, rule), s in refused])
    out_channels = sorted(roll_up(opt_out_rows, lambda row: (row["channel"],), ("opt_outs",)).items())
    by_channel = Table("opt_outs_by_channel", "Opt-outs by channel",
                       (Column("channel", "Channel", "text"), Column("opt_outs", "Opt-outs")),
                       [(key[0], s["opt_outs"]) for key, s in out_channels])
    return [per_period, by_rule, by_channel]


def _worse(from_bucket: str, to_bucket: str) -> bool:
    return DPD_BUCKETS.index(to_bucket) > DPD_BUCKETS.index(from_bucket)


def transition_tables(rows: list[dict], all_periods: list[Period]) -> list[Table]:
    """Cure rate and roll rates from the days-past-due snapshots opening and closing each period."""
    at_open = roll_up(rows, lambda row: (row["period"], row["from_bucket"]), ("loans",))
    cure_rows = []
    for period in all_periods:
        delinquent = sum(row["loans"] for row in rows if row["period"] == period.label
                         and row["from_bucket"] != "current")
        cured = sum(row["loans"] for row in rows if row["period"] == period.label
                    and row["from_bucket"] != "current" and row["to_bucket"] == "current")
        cure_rows.append((period.label, delinquent, cured, rate(cured, delinquent)))
    cure = Table("cure", "Cure rate (delinquent at the start of the period, current at its end)",
                 (Column("period", "Period", "text"), Column("delinquent", "Delinquent at start"),
                  Column("cured", "Current at end"), Column("cure_rate", "Cure rate", "rate")),
                 cure_rows, Chart("period", ("cure_rate",), "line"))
    roll_rows = sorted(
        ((row["period"], row["from_bucket"], row["to_bucket"], row["loans"],
          rate(row["loans"], at_open[(row["period"], row["from_bucket"])]["loans"]))
         for row in rows),
        key=lambda r: (r[0], DPD_BUCKETS.index(r[1]), DPD_BUCKETS.index(r[2])))
    forward = []
    for period in all_periods:
        moved = sum(r[3] for r in roll_rows if r[0] == period.label and _worse(r[1], r[2]))
        opened = sum(r[3] for r in roll_rows if r[0] == period.label)
        forward.append((period.label, opened, moved, rate(moved, opened)))
    roll = Table("roll", "Roll rates between days-past-due buckets",
                 (Column("period", "Period", "text"), Column("from_bucket", "From", "text"),
                  Column("to_bucket", "To", "text"), Column("loans", "Loans"),
                  Column("roll_rate", "Share of the 'from' bucket", "rate")), roll_rows)
    roll_forward = Table("roll_forward", "Roll-forward rate (loans moving to a worse bucket)",
                         (Column("period", "Period", "text"), Column("loans", "Loans with both snapshots"),
                          Column("rolled_forward", "Moved to a worse bucket"),
                          Column("roll_forward_rate", "Roll-forward rate", "rate")),
                         forward, Chart("period", ("roll_forward_rate",), "line"))
    return [cure, roll_forward, roll]


def transition_spans(all_periods: list[Period]) -> list[tuple[str, date, date]]:
    """(period, opening snapshot day, closing snapshot day): the day before the period begins, and its last day."""
    return [(period.label, period.first - timedelta(days=1), period.last) for period in all_periods]
