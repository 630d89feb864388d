"""The lender's negotiation limits: policy.yml loaded once into frozen, validated dataclasses.

Every limit the engine applies comes from here, so an invalid file is refused
at start-up with a message naming the key path and the bad value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any, Generic, Mapping, TypeVar

import yaml
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Limit = TypeVar("Limit", int, Decimal)


class PolicyError(ValueError):
    """policy.yml is missing, malformed, or holds a value outside its allowed range."""


class Authority(str, Enum):
    """Who may grant a concession; each role may grant at least what the one below it may."""

    BOT = "bot"
    AGENT = "agent"
    SUPERVISOR = "supervisor"

    @property
    def rank(self) -> int:
        """Position in the chain of authority, the bot lowest."""
        return list(Authority).index(self)


@dataclass(frozen=True)
class RoleCaps(Generic[Limit]):
    """The most of one concession each role may grant (months, an amount, or a share of the balance)."""

    key: str
    unit: str
    bot: Limit
    agent: Limit
    supervisor: Limit

    def cap(self, authority: Authority) -> Limit:
        """The most this role may grant."""
        return getattr(self, authority.value)

    def lowest_role_for(self, value: Limit) -> Authority | None:
        """The lowest role allowed to grant `value`, or None when nobody may."""
        for authority in Authority:
            if value <= self.cap(authority):
                return authority
        return None

    def rule(self, authority: Authority) -> str:
        """The rule as recorded on an offer, e.g. concessions.term_extension(bot_max_months=6)."""
        return f"concessions.{self.key}({authority.value}_max_{self.unit}={self.cap(authority)})"


@dataclass(frozen=True)
class AffordabilityRules:
    """How much of the borrower's surplus a plan may take."""

    surplus_share: Decimal
    savings_allowance: Decimal


@dataclass(frozen=True)
class InstalmentFloor:
    """The smallest instalment a plan may ask for."""

    min_amount: Decimal
    min_share_of_balance: Decimal


@dataclass(frozen=True)
class PlanRules:
    """Limits on any plan's length and start."""

    max_months: int
    good_faith_first_payment_days: int
    grace_good_faith_amount: Decimal  # token paid before a grace period; reduces the balance


@dataclass(frozen=True)
class AntiStallingRules:
    """When negotiating has become a way to delay paying."""

    renegotiations_per_12_months: int
    broken_promises_limit: int
    open_promises_limit: int


@dataclass(frozen=True)
class PromiseToPayRules:
    """What a promise to pay the arrears must cover, and by when."""

    horizon_days: int
    min_instalments: int


@dataclass(frozen=True)
class GraceRules(RoleCaps[int]):
    """Grace-period caps, and whether interest is frozen while nothing is paid."""

    interest_frozen: bool = True


@dataclass(frozen=True)
class SettlementRules(RoleCaps[Decimal]):
    """Settlement-discount caps, and how soon the discounted balance must be paid."""

    max_months: int = 12


@dataclass(frozen=True)
class ConcessionRules:
    """The concession ladder's gates and per-role caps."""

    pay_now: bool
    promise_to_pay: bool
    spread_arrears: bool
    fee_waiver: RoleCaps[Decimal]
    grace_period: GraceRules
    term_extension: RoleCaps[int]
    interest_waiver: RoleCaps[int]
    settlement_discount: SettlementRules
    write_down: RoleCaps[Decimal]


ALLOCATION_COMPONENTS = ("fees", "interest", "principal")


@dataclass(frozen=True)
class PaymentRules:
    """How a payment that names no instalment is applied to the books."""

    # Instalments are always taken oldest due first; within one, its components in this order.
    within_instalment: tuple[str, ...]


@dataclass(frozen=True)
class LifecycleRules:
    """When promises and plans change state as payments arrive (or do not)."""

    promise_grace_days: int      # a promise is judged this many days after its date
    plan_arrears_after_days: int  # a plan instalment unpaid this long after its date puts the plan in arrears
    plan_default_after_days: int  # ... and this long breaks the plan (the agreement states it)


@dataclass(frozen=True)
class JurisdictionRules:
    """One jurisdiction's contact rules: quiet hours in the borrower's local time, breathing space."""

    quiet_from: time      # no proactive contact from this local time ...
    quiet_until: time     # ... until this one (may wrap midnight: 22:00-08:00)
    breathing_space_days: int  # length of a breathing space recorded for a borrower (0: none in this law)


@dataclass(frozen=True)
class OutreachRules:
    """When the assistant writes first, and the contact rules it checks before every send."""

    promise_reminder_days_before: tuple[int, ...]
    instalment_reminder_days_before: tuple[int, ...]
    reminder_local_time: time            # reminders are due at this local time on their day
    follow_up_after_missed_days: int      # a follow-up this many days after a missed promise or instalment
    reengage_after_hours: int             # one message to a verified borrower who left mid-negotiation
    max_per_day: int                      # proactive attempts per borrower and channel, whatever their outcome
    max_per_7_days: int
    default_jurisdiction: str
    served_time_zones: tuple[str, ...]    # unknown time zone: only hours quiet in none of these
    jurisdictions: dict[str, JurisdictionRules]
    # A check-in to a borrower not yet late whose early-warning score (bot/risk) is at least this, at most
    # once per `risk_checkin_every_days`; 1 turns it off.
    risk_checkin_min_probability: Decimal = Decimal("1")
    risk_checkin_every_days: int = 30

    def jurisdiction(self, code: str | None) -> JurisdictionRules:
        return self.jurisdictions.get(code or self.default_jurisdiction, self.jurisdictions[self.default_jurisdiction])


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DeskRules:
    """The agent desk's hours and service targets: what a waiting borrower is told, what the console highlights."""

    time_zone: str                         # the desk's own zone, for its opening hours
    open_days: tuple[int, ...]             # weekday numbers (Monday 0) the desk is staffed
    opens: time
    closes: time
    unclaimed_notice_minutes: int          # a borrower nobody has claimed for this long is told and offered choices
    first_reply_minutes: dict[int, int]    # SLA: minutes from escalation to an agent's first reply, by priority

    def is_open(self, moment_utc: datetime) -> bool:
        """Whether an agent is expected at the desk at this moment (aware or naive UTC)."""
        if moment_utc.tzinfo is None:
            moment_utc = moment_utc.replace(tzinfo=timezone.utc)
        local = moment_utc.astimezone(ZoneInfo(self.time_zone))
        return local.weekday() in self.open_days and self.opens <= local.time() < self.closes


@dataclass(frozen=True)
class Policy:
    """One version of the lender's negotiation limits."""

    version: str
    affordability: AffordabilityRules
    instalment_floor: InstalmentFloor
    plan: PlanRules
    anti_stalling: AntiStallingRules
    promise_to_pay: PromiseToPayRules
    concessions: ConcessionRules
    payments: PaymentRules
    lifecycle: LifecycleRules
    outreach: OutreachRules
    desk: DeskRules


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file; raises PolicyError naming the file and the bad key."""
    path = Path(path)
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"{source}: cannot be read: {error}") from error
    except yaml.YAMLError as error:
        raise PolicyError(f"{source}: is not valid YAML: {error}") from error
    return policy_from_mapping(data, source=source)


def policy_from_mapping(data: Any, source: str = "policy.yml") -> Policy:
    """Validate already-parsed policy data; `source` prefixes every error message."""
    root = _Section(source, "", data)
    affordability = root.section("affordability")
    floor = root.section("instalment_floor")
    plan = root.section("plan")
    stalling = root.section("anti_stalling")
    promise = root.section("promise_to_pay")
    concessions = root.section("concessions")
    grace = concessions.section("grace_period")
    settlement = concessions.section("settlement_discount")
    payments = root.section("payments")
    lifecycle = root.section("lifecycle")
    outreach = root.section("outreach")
    desk = root.section("desk")
    policy = Policy(
        version=root.text("version"),
        affordability=AffordabilityRules(
            surplus_share=affordability.share("surplus_share"),
            savings_allowance=affordability.amount("savings_allowance"),
        ),
        instalment_floor=InstalmentFloor(
            min_amount=floor.amount("min_amount"),
            min_share_of_balance=floor.share("min_share_of_balance"),
        ),
        plan=PlanRules(
            max_months=plan.integer("max_months", 1, 360),
            good_faith_first_payment_days=plan.integer("good_faith_first_payment_days", 0, 31),
            grace_good_faith_amount=plan.positive_amount("grace_good_faith_amount"),
        ),
        anti_stalling=AntiStallingRules(
            renegotiations_per_12_months=stalling.integer("renegotiations_per_12_months", 0, 12),
            broken_promises_limit=stalling.integer("broken_promises_limit", 1, 10),
            open_promises_limit=stalling.integer("open_promises_limit", 1, 10),
        ),
        promise_to_pay=PromiseToPayRules(
            horizon_days=promise.integer("horizon_days", 0, 60),
            min_instalments=promise.integer("min_instalments", 0, 12),
        ),
        concessions=ConcessionRules(
            pay_now=concessions.section("pay_now").flag("enabled"),
            promise_to_pay=concessions.section("promise_to_pay").flag("enabled"),
            spread_arrears=concessions.section("spread_arrears").flag("enabled"),
            fee_waiver=concessions.section("fee_waiver").role_caps("fee_waiver", "amount"),
            grace_period=GraceRules(
                **grace.role_caps("grace_period", "months", upper=12).__dict__,
                interest_frozen=grace.flag("interest_frozen"),
            ),
            term_extension=concessions.section("term_extension").role_caps("term_extension", "months"),
            interest_waiver=concessions.section("interest_waiver").role_caps("interest_waiver", "months"),
            settlement_discount=SettlementRules(
                **settlement.role_caps("settlement_discount", "share").__dict__,
                max_months=settlement.integer("max_months", 1, 60),
            ),
            write_down=concessions.section("write_down").role_caps("write_down", "share"),
        ),
        payments=PaymentRules(
            within_instalment=payments.ordering("within_instalment", ALLOCATION_COMPONENTS),
        ),
        lifecycle=LifecycleRules(
            promise_grace_days=lifecycle.integer("promise_grace_days", 0, 14),
            plan_arrears_after_days=lifecycle.integer("plan_arrears_after_days", 0, 60),
            plan_default_after_days=lifecycle.integer("plan_default_after_days", 1, 180),
        ),
        outreach=_outreach_rules(outreach),
        desk=_desk_rules(desk),
    )
    if policy.lifecycle.plan_default_after_days <= policy.lifecycle.plan_arrears_after_days:
        raise PolicyError(f"{source}: lifecycle.plan_default_after_days = {policy.lifecycle.plan_default_after_days}: "
                          f"must be more than lifecycle.plan_arrears_after_days "
                          f"({policy.lifecycle.plan_arrears_after_days})")
    root.refuse_unknown_keys()
    return policy


def _outreach_rules(section: "_Section") -> OutreachRules:
    jurisdictions_section = section.section("jurisdictions")
    jurisdictions = {}
    for code in list(jurisdictions_section._data):
        rules = jurisdictions_section.section(str(code))
        jurisdictions[str(code)] = JurisdictionRules(
            quiet_from=rules.clock("quiet_from"), quiet_until=rules.clock("quiet_until"),
            breathing_space_days=rules.integer("breathing_space_days", 0, 365))
    default = section.text("default_jurisdiction")
    if default not in jurisdictions:
        raise section._fail("default_jurisdiction", default, f"must be one of {', '.join(jurisdictions)}")
    zones = section.time_zones("served_time_zones")
    return OutreachRules(
        promise_reminder_days_before=section.day_list("promise_reminder_days_before"),
        instalment_reminder_days_before=section.day_list("instalment_reminder_days_before"),
        reminder_local_time=section.clock("reminder_local_time"),
        follow_up_after_missed_days=section.integer("follow_up_after_missed_days", 1, 60),
        reengage_after_hours=section.integer("reengage_after_hours", 1, 24 * 30),
        max_per_day=section.integer("max_per_day", 1, 10),
        max_per_7_days=section.integer("max_per_7_days", 1, 30),
        default_jurisdiction=default, served_time_zones=zones, jurisdictions=jurisdictions,
        risk_checkin_min_probability=section.share("risk_checkin_min_probability"),
        risk_checkin_every_days=section.integer("risk_checkin_every_days", 7, 365))


def _desk_rules(section: "_Section") -> DeskRules:
    zone = section.text("time_zone")
    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise section._fail("time_zone", zone, "must be an IANA time zone (e.g. Asia/Shanghai)") from None
    days = section._value("open_days")
    if not isinstance(days, list) or not days or not all(d in WEEKDAYS for d in days):
        raise section._fail("open_days", days, f"must be a non-empty list of {', '.join(WEEKDAYS)}")
    opens = section.clock("opens")
    # "24:00" closes at the end of the day (a desk staffed around the clock: opens "00:00", closes "24:00").
    closes = time.max if section._value("closes") == "24:00" else section.clock("closes")
    if closes <= opens:
        raise section._fail("closes", closes.strftime("%H:%M"), "must be later than opens (same day)")
    targets = section.section("first_reply_minutes")
    first_reply = {}
    for priority in (1, 2, 3, 4):
        first_reply[priority] = targets.integer(f"priority_{priority}", 1, 7 * 24 * 60)
    return DeskRules(time_zone=zone, open_days=tuple(sorted(WEEKDAYS.index(d) for d in set(days))),
                     opens=opens, closes=closes,
                     unclaimed_notice_minutes=section.integer("unclaimed_notice_minutes", 1, 24 * 60),
                     first_reply_minutes=first_reply)


def _show(value: Any) -> str:
    """A value as the YAML author wrote it, for error messages."""
    if isinstance(value, (str, bool)) or value is None:
        return json.dumps(value)
    return str(value)


class _Section:
    """One mapping of the policy file, reading typed values and remembering which keys were used."""

    def __init__(self, source: str, path: str, data: Any) -> None:
        self._source = source
        self._path = path
        if not isinstance(data, Mapping):
            where = path or "the file"
            raise PolicyError(f"{source}: {where} must be a mapping of keys to values")
        self._data = data
        self._used: set[str] = set()
        self._children: list[_Section] = []

    def _key_path(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def _fail(self, key: str, value: Any, problem: str) -> PolicyError:
        return PolicyError(f"{self._source}: {self._key_path(key)} = {_show(value)}: {problem}")

    def _value(self, key: str) -> Any:
        if key not in self._data:
            raise PolicyError(f"{self._source}: {self._key_path(key)}: missing")
        self._used.add(key)
        return self._data[key]

    def section(self, key: str) -> _Section:
        value = self._value(key)
        if not isinstance(value, Mapping):
            raise self._fail(key, value, "must be a mapping of keys to values")
        child = _Section(self._source, self._key_path(key), value)
        self._children.append(child)
        return child

    def text(self, key: str) -> str:
        value = self._value(key)
        if not isinstance(value, str) or not value.strip():
            raise self._fail(key, value, "must be a non-empty string")
        return value

    def flag(self, key: str) -> bool:
        value = self._value(key)
        if not isinstance(value, bool):
            raise self._fail(key, value, "must be true or false")
        return value

    def integer(self, key: str, lower: int, upper: int) -> int:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, int) or not lower <= value <= upper:
            raise self._fail(key, value, f"must be an integer between {lower} and {upper}")
        return value

    def _decimal(self, key: str, problem: str) -> Decimal:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self._fail(key, value, problem)
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise self._fail(key, value, problem) from None
        if not number.is_finite():
            raise self._fail(key, value, problem)
        return number

    def share(self, key: str) -> Decimal:
        problem = "must be a number between 0 and 1"
        number = self._decimal(key, problem)
        if not Decimal(0) <= number <= Decimal(1):
            raise self._fail(key, self._data[key], problem)
        return number

    def amount(self, key: str) -> Decimal:
        problem = "must be a non-negative amount with at most 2 decimal places"
        number = self._decimal(key, problem)
        if number < 0 or number != number.quantize(Decimal("0.01")):
            raise self._fail(key, self._data[key], problem)
        return number.quantize(Decimal("0.01"))

    def positive_amount(self, key: str) -> Decimal:
        number = self.amount(key)
        if number <= 0:
            raise self._fail(key, self._data[key], "must be a positive amount with at most 2 decimal places")
        return number

    def clock(self, key: str) -> time:
        """A local time of day written "HH:MM"."""
        value = self._value(key)
        problem = 'must be a time of day "HH:MM" (quoted in YAML)'
        if not isinstance(value, str) or len(value) != 5:
            raise self._fail(key, value, problem)
        try:
            return time.fromisoformat(value)
        except ValueError:
            raise self._fail(key, value, problem) from None

    def day_list(self, key: str) -> tuple[int, ...]:
        """Days before a date, e.g. [3, 1]: distinct integers 0-30, largest first."""
        value = self._value(key)
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 30
                                                  for v in value) or len(set(value)) != len(value):
            raise self._fail(key, value, "must be a list of distinct whole days between 0 and 30")
        return tuple(sorted(value, reverse=True))

    def time_zones(self, key: str) -> tuple[str, ...]:
        value = self._value(key)
        try:
            if not isinstance(value, list) or not value:
                raise ValueError
            for zone in value:
                ZoneInfo(zone)
        except (ValueError, TypeError, ZoneInfoNotFoundError):
            raise self._fail(key, value, "must be a non-empty list of IANA time zones (e.g. Asia/Shanghai)") from None
        return tuple(value)

    def ordering(self, key: str, items: tuple[str, ...]) -> tuple[str, ...]:
        """A list naming each of `items` exactly once, in the author's order."""
        value = self._value(key)
        if not isinstance(value, list) or sorted(map(str, value)) != sorted(items):
            raise self._fail(key, value, f"must list each of {', '.join(items)} exactly once")
        return tuple(value)

    def role_caps(self, concession: str, unit: str, upper: int = 60) -> RoleCaps:
        """The bot/agent/supervisor caps of one concession, each at least the one below it."""
        caps: dict[str, Any] = {}
        lower_role = None
        for authority in Authority:
            key = f"{authority.value}_max_{unit}"
            if unit == "months":
                cap: Any = self.integer(key, 0, upper)
            elif unit == "share":
                cap = self.share(key)
            else:
                cap = self.amount(key)
            if lower_role is not None and cap < caps[lower_role.value]:
                lower_key = f"{lower_role.value}_max_{unit}"
                raise self._fail(key, self._data[key], f"must be at least {lower_key} ({caps[lower_role.value]})")
            caps[authority.value] = cap
            lower_role = authority
        return RoleCaps(key=concession, unit=unit, **caps)

    def refuse_unknown_keys(self) -> None:
        for key in self._data:
            if key not in self._used:
                raise PolicyError(f"{self._source}: {self._key_path(str(key))}: unknown key")
        for child in self._children:
            child.refuse_unknown_keys()
