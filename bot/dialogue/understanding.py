"""A borrower's reply read against the question it answers, then by the classifier.

Order (issue 10, "context-first reading"):
0. An opt-out keyword on its own ("STOP", "退订", "TD", "stop messaging me") is `stop_contact`,
   whatever the classifier or the step: the lender's messages promise that replying STOP stops them.
1. Intents a person may always use (a person, a complaint, a dispute, self-harm...) are
   taken as classified: no expectation overrides them.
2. When the reply satisfies what the last question expects (a date of birth after
   "please send your date of birth", an amount after "what is your income?", "2" after a
   list of options, "好的" after the terms), it is that answer: the classifier's intent is
   kept only when it fits the step, otherwise the answer's intent is used. Such a reply is
   never a misunderstanding.
3. Otherwise an intent that fits the step is preferred to one that does not when the
   classifier ranked it close (at least PREFER_RATIO of the top confidence).

Facts are read from every message whatever the step (``read_facts``): the negotiation
records a cause, a recovery time, an income or costs given out of turn.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.dialogue.expectations import PROTECTED_INTENTS, Expect, Step
from bot.language import (
    HardshipCause, LabelledAmounts, asks_for_details, classify_cause, is_temporary, label_amounts, parse_date_of_birth,
    parse_duration_months, parse_future_date, parse_loan_ref, parse_option, parse_yes_no,
)

FALLBACK = "nlu_fallback"
PREFER_RATIO = 0.5      # a fitting intent ranked within half the top confidence is preferred
PREFER_MIN = 0.15       # ... and never one the classifier barely considered
MAX_OPTION = 3          # the negotiation shows at most three options
DONT_KNOW = re.compile(r"(?i)\b(?:don'?t know|dunno|not sure|no idea|can'?t say|unsure|hard to say)\b"
                       r"|不知道|不清楚|说不准|不确定|不好说|没数|唔知")
# The whole message, give or take politeness and punctuation: linear, no nested repetition.
OPT_OUT = re.compile(
    r"(?i)(?:please )?(?:stop|unsubscribe|td|t\.d\.|stop all|opt out"
    r"|stop (?:messaging|texting|contacting|writing to|sending messages to) me"
    r"|(?:do not|don't|dont) (?:message|text|contact) me(?: again| anymore)?"
    r"|退订|退定|取消订阅|不要再给我发消息了?|不要再发消息了?|别再给我发消息了?|别再联系我了?|不要再联系我了?)"
    r"(?: please)?[\s.!。！]{0,3}")


def is_opt_out(text: str) -> bool:
    """The message is only a request to stop messages ("STOP", "退订"), read without the classifier."""
    return len(text) <= 60 and OPT_OUT.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class Facts:
    """What one message states, read by the deterministic parsers of ``bot.language``."""

    loan_reference: str | None = None
    date_of_birth: date | None = None
    impossible_date: bool = False
    cause: HardshipCause | None = None
    temporary: bool | None = None
    duration_months: int | None = None
    amounts: LabelledAmounts = field(default_factory=LabelledAmounts)
    option: int | None = None
    yes_no: bool | None = None
    details: bool = False          # "details" / "详细": the offers' payments spelt out

    @property
    def identity(self) -> bool:
        return bool(self.loan_reference) or self.date_of_birth is not None or self.impossible_date

    @property
    def all_amounts(self) -> list[Decimal]:
        money = self.amounts
        labelled = [value for value in (money.income, money.costs, money.offer) if value is not None]
        return labelled + list(money.unlabelled)


def read_facts(text: str, today: date) -> Facts:
    birth = parse_date_of_birth(text, today)
    return Facts(
        loan_reference=parse_loan_ref(text),
        date_of_birth=birth.value,
        impossible_date=birth.impossible,
        cause=classify_cause(text),
        temporary=is_temporary(text),
        duration_months=parse_duration_months(text),
        amounts=label_amounts(text),
        option=parse_option(text),
        yes_no=parse_yes_no(text),
        details=asks_for_details(text),
    )


@dataclass(frozen=True)
class Understanding:
    """How one turn is taken: the intent acted on, and why."""

    intent: str | None            # what the assistant acts on
    classified: str | None        # what the classifier said (nlu_fallback included)
    step: Step | None             # the question the message answers, if the bot asked one
    facts: Facts
    answered: bool = False        # the message satisfies the question's expectation

    @property
    def reread(self) -> bool:
        return self.intent != self.classified


def answer_intent(step: Step, facts: Facts, text: str, today: date) -> str | None:
    """The intent a reply that satisfies ``step``'s expectation stands for; None when it does not."""
    expect = step.expect
    money = facts.amounts
    if expect is Expect.IDENTITY and facts.identity:
        return "provide_identity"
    if expect is Expect.DATE_OF_BIRTH and (facts.date_of_birth is not None or facts.impossible_date):
        return "provide_identity"
    if expect is Expect.LOAN_REFERENCE and facts.loan_reference:
        return "provide_identity"
    if expect is Expect.CAUSE and facts.cause is not None:
        return "explain_hardship"
    if expect in (Expect.INCOME, Expect.COSTS, Expect.AMOUNT) and money.any:
        return "counter_offer" if money.offer is not None and money.income is None else "inform_finances"
    if expect in (Expect.OPTION, Expect.CONFIRM) and facts.details:
        return "ask_options"  # the negotiation spells out the options shown
    if expect is Expect.OPTION:
        # "1" after a list of options is option 1, not a payment of 1.00 ("3" of two options
        # is a wrong number, for the negotiation to ask again, not an offer of 3.00).
        if facts.option is not None and all(value <= MAX_OPTION for value in facts.all_amounts):
            return "choose_option"
        if money.any and any(value > MAX_OPTION for value in facts.all_amounts):
            return "counter_offer"
        if facts.yes_no is not None:
            return "affirm" if facts.yes_no else "deny"
    if expect is Expect.CONFIRM and facts.yes_no is not None:
        return "affirm" if facts.yes_no else "deny"
    if expect is Expect.RECOVERY and (facts.duration_months is not None or facts.temporary is not None
                                      or facts.yes_no is False or DONT_KNOW.search(text)):
        return "explain_hardship"
    if expect is Expect.PROMISE and money.any and parse_future_date(text, today) is not None:
        return "promise_to_pay"
    return None


def _ranked(ranking: list[dict]) -> list[tuple[str, float]]:
    return [(item.get("name"), float(item.get("confidence") or 0.0)) for item in ranking
            if item.get("name") and item.get("name") != FALLBACK]


def understand(text: str, ranking: list[dict], step: Step | None, today: date, *,
               classified: str | None = None) -> Understanding:
    """Read ``text`` against ``step`` first, then by the classifier's ``ranking``.

    ``classified`` is the classifier's intent (the top of the ranking when not given).
    """
    facts = read_facts(text, today)
    ranked = _ranked(ranking)
    if classified is None:
        classified = ranking[0].get("name") if ranking else None
    if is_opt_out(text):
        return Understanding("stop_contact", classified, step, facts)
    if classified in PROTECTED_INTENTS or step is None:
        return Understanding(classified, classified, step, facts)
    answer = answer_intent(step, facts, text, today)
    if answer is not None:
        intent = classified if classified in step.fitting else answer
        return Understanding(intent, classified, step, facts, answered=True)
    if classified in step.fitting or not ranked:
        return Understanding(classified, classified, step, facts)
    top_name, top_confidence = ranked[0]
    if top_name in PROTECTED_INTENTS:  # below the fallback threshold but still a request for a person
        return Understanding(classified, classified, step, facts)
    for name, confidence in ranked:
        if name in step.fitting and confidence >= max(PREFER_MIN, PREFER_RATIO * top_confidence):
            return Understanding(name, classified, step, facts)
    return Understanding(classified, classified, step, facts)
