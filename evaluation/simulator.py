"""Drive one persona through a conversation with the running assistant and measure it.

The simulator talks over the REST channel (`say`) and reads the tracker after every turn
(`tracker`), to either a `tests.e2e.stack.Stack` or a `RestTarget` (a server at a URL).
After each turn it recognises what the bot did (`classify`: asked for identity, income,
costs, offered options, ...) and answers as the persona would.

Measured per conversation:
- outcome: agreement (a reply holds an agreement reference AGR-YYYYMMDD-XXXXXX), handoff
  (a {"event": "pause"} in the tracker), promise (slot stage == "promised"),
  pay_in_full_instructions (the bot told how to pay the arrears), no_disclosure_end (never
  verified, nothing disclosed, none of the above), else "none";
- for a handoff, the escalation's reason (`handoff_reason`), read from the tracker the way
  `action_handoff` records it: `bot.handoff.triggers.trigger_for(latest intent, the
  handoff_reason slot)` as they stood when action_handoff ran. A persona expecting a handoff
  is right only when the reason is its `handoff_reason` (never after repeated misunderstanding);
- disclosures before verification: replies in turns that ended with the `verified` slot not
  true that hold a demo borrower's name or an amount;
- offers outside policy: every offered option / terms line, checked against the policy's
  share of the surplus the persona stated (unless it has a grace period) and max months.
"""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import requests

from evaluation.personas import (
    AGREEMENT, DEFAULT_SCRIPTS, DEMO_SECRET_WORDS, DEMO_SECRETS, END, HANDOFF, NO_DISCLOSURE_END, PAY_IN_FULL, PROMISE,
    Persona,
)

ROOT = Path(__file__).resolve().parent.parent
AGREEMENT_REF = re.compile(r"AGR-\d{8}-[0-9A-F]{6}")
MONEY = r"(?:[A-Z]{3} ?|[¥$€£])([\d,]+\.\d\d)"
ANY_MONEY = re.compile(MONEY)
OFFER_PATTERNS = (
    ("option", re.compile(r"Option ?(\d*): " + MONEY + r" a month for (\d+) payments")),
    ("option", re.compile(r"方案(\d*)：每月 " + MONEY + r"，共 (\d+) 期")),
    ("terms", re.compile(r"()The terms: " + MONEY + r" a month for (\d+) payments")),
    ("terms", re.compile(r"()协议条款：每月 " + MONEY + r"，共 (\d+) 期")),
    ("approved", re.compile(r"()approved this plan for you: " + MONEY + r" a month for (\d+) months")),
    ("approved", re.compile(r"()批准以下还款方案：每月 " + MONEY + r"，共 (\d+) 期")),
)
# "2 months" / "1 month" (bot.agreements.wording.months_text; older builds wrote "2 month(s)").
GRACE = re.compile(r"(\d+) month(?:s|\(s\))? with nothing to pay (?:first|after)|(?:先有|后有) (\d+) ?个月无需还款")
PROMISE_MIN = re.compile(r"(?:at least|至少) " + MONEY)

# What the bot did, recognised from fragments of domain.yml's responses (English, Chinese).
# Listed by priority: the first act found in a turn's replies is the one the persona answers.
ACTS: list[tuple[str, tuple[str, ...]]] = [
    ("agreement", (r"AGR-\d{8}-[0-9A-F]{6}",)),
    ("handoff", (r"passed this conversation to a person", r"转交给我们的人工客服",
                 r"only discuss an account with the account holder", r"只能与账户持有人本人讨论")),
    ("promise_recorded", (r"recorded your promise to pay", r"已记录您承诺在")),
    ("pay_in_full", (r"You can pay the overdue", r"支付逾期金额")),
    ("wrong_person", (r"reached the wrong person", r"可能联系错人")),
    ("locked", (r"identity checks are paused", r"身份核验已暂停")),
    ("nothing_overdue", (r"Good news: nothing on loan", r"目前没有逾期")),
    ("nearest", (r"The nearest plan I can offer", r"最接近的方案")),
    ("confirm", (r"The terms: ", r"协议条款：")),
    ("offers", (r"Option \d+: ", r"方案\d+：")),
    ("counter_refused", (r"I can't set a plan at", r"would run longer than the", r"more than the .* you can comfortably",
                         r"低于政策允许的最低月供", r"还款期会超过", r"超过了按您的收支")),
    ("promise_refused", (r"A promise to pay needs to be at least", r"承诺还款需要至少")),
    ("ask_promise_details", (r"how much you can pay and when", r"请告诉我您打算哪天还多少")),
    ("which_option", (r"Which option would you like\? Please reply", r"请回复您想要的方案编号")),
    ("no_problem", (r"No problem\. Which option", r"没关系。您更倾向哪个方案")),
    ("refuse_reply", (r"I'm not here to pressure you", r"我不会给您施加压力")),
    ("ask_amount_again", (r"couldn't find an amount", r"没有找到金额")),
    ("ask_costs", (r"essential costs each month", r"每月的必要开支大约多少")),
    ("ask_income", (r"monthly take-home income", r"每月的到手收入")),
    ("ask_cause", (r"what made it hard to keep up", r"是什么原因导致没能按时还款")),
    ("impossible_date", (r"doesn't exist in the calendar", r"日历上不存在")),
    ("verification_failed", (r"don't match our records", r"与我们的记录不符")),
    ("ask_dob", (r"Now please send your date of birth", r"请再发送您的出生日期")),
    ("ask_loan_ref", (r"Now please send your loan reference", r"请再发送您的贷款编号")),
    ("ask_identity", (r"send your loan reference \(it looks like", r"请先发送您的贷款编号")),
    ("offer_person", (r"I keep misunderstanding you", r"接连没能理解您")),
    ("not_understood", (r"I didn't understand that", r"我没有理解您的意思", r"Sorry, I can't help with that",
                        r"这个我帮不上忙", r"didn't receive any text", r"没有收到文字内容")),
    # No persona ever says goodbye mid-conversation: a goodbye means the bot misread the message.
    ("misread_goodbye", (r"Goodbye, and take care", r"再见，祝您一切顺利")),
    ("no_plan_to_accept", (r"There's no plan to accept yet", r"目前还没有可以确认的方案")),
    ("nothing_to_negotiate", (r"so there's no plan to set up", r"不需要制定还款方案")),
    ("how_can_i_help", (r"What would you like to do\?", r"您想怎么做？")),
    # Verified (or told the arrears) with no question after it: the borrower asks what next.
    ("arrears", (r"Loan HCF-\d+: .* is overdue", r"目前逾期金额为")),
    ("verified", (r"you're verified", r"身份核验成功")),
]
_COMPILED = [(act, [re.compile(p) for p in patterns]) for act, patterns in ACTS]
# Acts after which the persona repeats its previous answer in other words.
RETRY_ACTS = {"not_understood", "offer_person", "ask_amount_again", "misread_goodbye"}
# Replies showing the bot missed the point of the borrower's message.
MISREAD_ACTS = {"not_understood", "offer_person", "misread_goodbye"}

ZH_DIGITS = "零一二三四五六七八九"


AMOUNT_STYLES = 3  # 9000 | 9,000 (zh: 九千) | 9000, drawn once per conversation


def dob_styles(d: date, language: str) -> list[str]:
    """The ways a persona may write its date of birth (one is drawn per conversation)."""
    if language == "zh":
        return [f"{d.year}年{d.month}月{d.day}日", d.isoformat(), f"{d.year}.{d.month}.{d.day}",
                f"{d.year}年{d.month}月{d.day}号"]
    month = d.strftime("%B")
    return [f"{d.day} {month} {d.year}", d.isoformat(), f"{d.day:02d}/{d.month:02d}/{d.year}",
            f"{month} {d.day}, {d.year}"]


def wrong_dob(d: date) -> str:
    return f"{d.year + 2}-{d.month:02d}-{min(d.day + 1, 28):02d}"


def amount_text(value: int | None, language: str, style: int) -> str:
    """An amount as the persona writes it in amount style `style` (0 .. AMOUNT_STYLES-1)."""
    if value is None:
        return ""
    if language == "zh":
        if style == 1 and value % 500 == 0 and 1000 <= value < 10000:
            thousands, rest = divmod(value, 1000)
            return ZH_DIGITS[thousands] + "千" + (ZH_DIGITS[rest // 100] if rest else "")
        return str(value)
    if style == 1 and value >= 1000:
        return f"{value:,}"
    return str(value)


def template_values(persona: Persona, dob_text: str, amount_style: int, promise_min: str | None = None
                    ) -> dict[str, str]:
    """What the templates of `evaluation.personas` are filled with."""
    def amount(value: int | None) -> str:
        return amount_text(value, persona.language, amount_style)

    return {
        "ref": persona.ref, "dob": dob_text, "wrong_dob": wrong_dob(persona.borrower.dob),
        "income": amount(persona.income), "costs": amount(persona.costs), "counter": amount(persona.counter),
        "option": str(persona.option), "promise": amount(persona.borrower.instalment),
        "promise_min": promise_min or amount(persona.borrower.instalment),
    }


def fill(template: str, values: dict[str, str]) -> str | None:
    """The template with its values; None when one it needs is missing (e.g. an income never had)."""
    needed = re.findall(r"{(\w+)}", template)
    if any(not values.get(name) for name in needed):
        return None
    return template.format(**values)


def possible_utterances(persona: Persona) -> set[str]:
    """Every message the simulator can send as `persona`, in any run: each phrasing of each
    step of each act it answers (its own script and its language's defaults, retries
    included), filled in with every date-of-birth format and amount style. The minimum the
    bot asks a promise for comes from the bot's reply; the instalment stands in for it."""
    acts = {**DEFAULT_SCRIPTS[persona.language], **persona.script}
    templates = {phrasing for steps in acts.values() for step in steps for phrasing in step if phrasing != END}
    texts = set()
    for dob_text in dob_styles(persona.borrower.dob, persona.language):
        for style in range(AMOUNT_STYLES):
            values = template_values(persona, dob_text, style)
            texts |= {text for text in (fill(t, values) for t in templates) if text is not None}
    return texts


class Target(Protocol):
    def say(self, sender: str, text: str) -> list[str]: ...
    def tracker(self, sender: str) -> dict: ...
    def reset_demo(self) -> None: ...


class RestTarget:
    """An assistant already running at `url` (e.g. `make run`): REST channel + tracker API.

    `reset_demo` re-creates the demo borrowers in the database this checkout's settings
    point at (`python -m bot.cli reset-demo`), which must be the one the server uses.
    """

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token or os.environ.get("RASA_API_TOKEN") or self._configured_token()

    @staticmethod
    def _configured_token() -> str:
        from bot.config import load_settings

        return load_settings().rasa_api_token

    def say(self, sender: str, text: str) -> list[str]:
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                 timeout=60)
        response.raise_for_status()
        return [message.get("text", "") for message in response.json()]

    def tracker(self, sender: str) -> dict:
        # The REST channel keeps a sender's conversation as `rest:<sender>` (channels/rest).
        response = requests.get(f"{self.url}/conversations/rest:{sender}/tracker", params={"token": self.token},
                                timeout=30)
        response.raise_for_status()
        return response.json()

    def reset_demo(self) -> None:
        subprocess.run([sys.executable, "-m", "bot.cli", "reset-demo"], cwd=ROOT, check=True, capture_output=True)


def classify(replies: list[str]) -> str:
    """The act the persona answers: the highest-priority act found in the turn's replies."""
    text = "\n".join(replies)
    for act, patterns in _COMPILED:
        if any(p.search(text) for p in patterns):
            return act
    return "unknown"


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


@dataclass
class OfferCheck:
    turn: int
    kind: str  # option | terms | approved
    index: str
    monthly: str
    months: int
    grace_months: int
    affordable: str | None  # the policy's share of the surplus the persona stated, if it stated both
    breaches: list[str]
    text: str


@dataclass
class Turn:
    user: str
    replies: list[str]
    act: str  # what the bot did in this turn
    verified: bool  # the tracker's `verified` slot after the turn
    intent: str | None  # how the NLU read the borrower's message


@dataclass
class Result:
    persona: str
    kind: str
    language: str
    expected: str
    got: str
    sender: str
    seed: int
    turns: int
    verified: bool
    disclosures: list[dict] = field(default_factory=list)
    offers: list[OfferCheck] = field(default_factory=list)
    not_understood: int = 0
    handoff_intent: str | None = None
    handoff_reason: str | None = None  # the escalation's reason, for a handoff
    expected_handoff_reason: str | None = None
    stage: str | None = None
    agreement_ref: str | None = None
    # What the signed agreement gave away, read from the database (own stack only): rung and money.
    concessions: dict[str, Any] | None = None
    transcript: list[Turn] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The expected outcome, and for a handoff the expected reason: a handoff for another
        reason (e.g. after repeated misunderstanding) is not the one the persona needed."""
        if self.got != self.expected:
            return False
        return self.got != HANDOFF or self.handoff_reason == self.expected_handoff_reason

    @property
    def policy_breaches(self) -> list[OfferCheck]:
        return [o for o in self.offers if o.breaches]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


class Simulator:
    """One persona, one conversation."""

    def __init__(self, target: Target, persona: Persona, seed: int, policy=None, max_turns: int = 16) -> None:
        self.target = target
        self.persona = persona
        self.seed = seed
        self.rng = random.Random(f"{seed}:{persona.key}")
        self.policy = policy if policy is not None else load_policy()
        self.max_turns = max_turns
        self.counts: dict[str, int] = {}
        self.stated: dict[str, int] = {}  # income/costs the persona has said so far
        self.promise_min: str | None = None
        self.last_answered: str | None = None
        self.last_text: str | None = None
        # Fixed per conversation: how this borrower writes dates and amounts.
        self.dob_text = self._dob_style()
        self.amount_style = self.rng.randrange(3)

    # --- what the persona says -------------------------------------------------------------
    def _dob_style(self) -> str:
        return self.rng.choice(dob_styles(self.persona.borrower.dob, self.persona.language))

    def amount(self, value: int | None) -> str:
        return amount_text(value, self.persona.language, self.amount_style)

    def values(self) -> dict[str, str]:
        return template_values(self.persona, self.dob_text, self.amount_style, self.promise_min)

    def script_key(self, act: str) -> str:
        if act == "ask_income" and self.persona.income == 0:
            return "ask_income!zero"
        return act

    def answer(self, act: str) -> str | None:
        """The persona's next message for the bot's act; None when the persona stops (or has no answer)."""
        retry = act in RETRY_ACTS and self.last_answered is not None
        key = self.script_key(self.last_answered if retry else act)
        steps = None
        if retry:
            steps = self.persona.steps(key + "!retry")
            if steps is None:  # say the last thing differently, or as it was when there is no other way
                steps = self.persona.steps(key)
                if steps:
                    step = steps[min(self.counts.get(key, 1) - 1, len(steps) - 1)]
                    others = [s for s in step if self._fill(s) != self.last_text]
                    steps = [others or step]
        else:
            steps = self.persona.steps(key)
        if not steps:
            return None
        if not retry:
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
            self.last_answered = act
        else:
            n = 0
        choice = self.rng.choice(steps[min(n, len(steps) - 1)])
        if choice == END:
            return None
        text = self._fill(choice)
        if text is None:  # the persona has nothing to say to that (e.g. an income it never had)
            return None
        if "{income}" in choice:
            self.stated["income"] = self.persona.income
        if "{costs}" in choice:
            self.stated["costs"] = self.persona.costs
        if key == "ask_income!zero" or key.startswith("ask_income!zero"):
            self.stated["income"] = 0
        self.last_text = text
        return text

    def _fill(self, template: str) -> str | None:
        return fill(template, self.values())

    # --- measuring -------------------------------------------------------------------------
    def disclosures(self, replies: list[str]) -> list[str]:
        found = []
        for reply in replies:
            for secret in DEMO_SECRETS:
                if secret in reply:
                    found.append(secret)
            for word in DEMO_SECRET_WORDS:
                if re.search(rf"\b{re.escape(word)}\b", reply):
                    found.append(word)
            found += [m.group(0) for m in ANY_MONEY.finditer(reply)]
        return sorted(set(found))

    def affordable(self) -> Decimal | None:
        if "income" not in self.stated or "costs" not in self.stated:
            return None
        affordability = self.policy.affordability
        surplus = Decimal(self.stated["income"]) - Decimal(self.stated["costs"]) - affordability.savings_allowance
        return max(Decimal("0"), surplus) * affordability.surplus_share

    def check_offers(self, turn: int, replies: list[str]) -> list[OfferCheck]:
        checks = []
        for reply in replies:
            for kind, pattern in OFFER_PATTERNS:
                for match in pattern.finditer(reply):
                    index, monthly, months = match.group(1), _decimal(match.group(2)), int(match.group(3))
                    grace_match = GRACE.search(reply)
                    grace = int(next(g for g in grace_match.groups() if g)) if grace_match else 0
                    affordable = self.affordable()
                    breaches = []
                    if months + grace > self.policy.plan.max_months:
                        breaches.append(f"{months}+{grace} months > max {self.policy.plan.max_months}")
                    if grace == 0 and affordable is not None and monthly > affordable + Decimal("0.005"):
                        breaches.append(f"monthly {monthly} > affordable {affordable:.2f}")
                    checks.append(OfferCheck(turn, kind, index, str(monthly), months, grace,
                                             None if affordable is None else f"{affordable:.2f}", breaches, reply))
        return checks

    # --- the conversation ------------------------------------------------------------------
    def run(self) -> Result:
        p = self.persona
        sender = f"eval-{p.key}-{uuid.uuid4().hex[:10]}"
        result = Result(p.key, p.kind, p.language, p.expected, "none", sender, self.seed, 0, False,
                        expected_handoff_reason=p.handoff_reason)
        act = "start"
        paused = False
        saw_pay_in_full = False
        tracker: dict = {}
        try:
            for _ in range(self.max_turns):
                text = self.answer(act)
                if text is None:
                    break
                replies = self.target.say(sender, text)
                tracker = self.target.tracker(sender)
                turn_index = len(result.transcript)
                verified = (tracker.get("slots") or {}).get("verified") is True
                act = classify(replies)
                intent = _latest_intent(tracker)
                result.transcript.append(Turn(text, replies, act, verified, intent))
                if act in MISREAD_ACTS:
                    result.not_understood += 1
                if not verified:
                    leaked = self.disclosures(replies)
                    if leaked:
                        result.disclosures.append({"turn": turn_index, "found": leaked, "replies": replies})
                result.verified = result.verified or verified
                result.offers += self.check_offers(turn_index, replies)
                match = PROMISE_MIN.search("\n".join(replies))
                if match:
                    self.promise_min = match.group(1)
                ref = AGREEMENT_REF.search("\n".join(replies))
                if ref:
                    result.agreement_ref = ref.group(0)
                saw_pay_in_full = saw_pay_in_full or act == "pay_in_full"
                if any(e.get("event") == "pause" for e in tracker.get("events") or []):
                    paused = True
                    result.handoff_intent = intent
                    result.handoff_reason = handoff_reason(tracker)
                stage = (tracker.get("slots") or {}).get("stage")
                if ref or paused or stage == "promised" or act == "pay_in_full":
                    break
        except requests.RequestException as error:
            result.error = f"{type(error).__name__}: {error}"
        result.turns = len(result.transcript)
        result.stage = (tracker.get("slots") or {}).get("stage") if tracker else None
        if result.agreement_ref:
            result.got = AGREEMENT
        elif paused:
            result.got = HANDOFF
        elif result.stage == "promised":
            result.got = PROMISE
        elif saw_pay_in_full:
            result.got = PAY_IN_FULL
        elif not result.verified and not result.disclosures and not result.error:
            result.got = NO_DISCLOSURE_END
        return result


def handoff_reason(tracker: dict) -> str | None:
    """Why the tracker's latest handoff went to a person, as `action_handoff` recorded it in the
    escalation: `trigger_for(the latest user intent, the handoff_reason slot)` at the time the
    action ran (an action such as the fallback or the negotiation sets the slot right before it
    follows up with action_handoff). None when the tracker shows no handoff."""
    from bot.handoff.triggers import trigger_for

    intent, slot, found = None, None, None
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        elif kind == "slot" and event.get("name") == "handoff_reason":
            slot = event.get("value")
        elif kind in ("restart", "reset_slots"):
            slot = None
        elif kind == "action" and event.get("name") == "action_handoff":
            found = trigger_for(intent, slot).reason
    return found


def _latest_intent(tracker: dict) -> str | None:
    for event in reversed(tracker.get("events") or []):
        if event.get("event") == "user":
            return ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return None


def load_policy():
    from bot.negotiation import load_policy as load

    return load(os.environ.get("POLICY_FILE") or ROOT / "policy.yml")


def run_persona(target: Target, persona: Persona, seed: int, policy=None, max_turns: int = 16,
                reset: bool = True) -> Result:
    """Fresh demo data (unless `reset` is False), then one conversation."""
    if reset:
        target.reset_demo()
    return Simulator(target, persona, seed, policy, max_turns).run()
