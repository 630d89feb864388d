"""The negotiation after verification: why, what the borrower can afford, offers, agreement.

The action only reads and writes conversation state; every money decision is
made by `bot.negotiation` and every record by `bot.agreements`.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    BorrowerAction, accounts, current_verification, keep_verified, language, latest_text, say, services, today,
    utc_now,
)
from actions.phrasing import cause_text, choice_buttons, concessions_text
from actions.understanding import said_in_session, understood
from actions.verification import verify_and_continue
from bot.accounts.arrears import ArrearsStatement
from bot.agreements.links import agreement_url
from bot.agreements.service import (
    latest_agreement, negotiation_history, offer_by_id, record_offer, record_promise, sign_agreement,
)
from bot.agreements.terms import offer_terms
from bot.agreements.wording import good_faith_text, months_text, regular_start
from bot.language import format_date, format_money, parse_amount, parse_future_date
from bot.negotiation import (
    AccountPosition, CounterOfferStatus, Finances, Hardship, Offer, affordable_instalment,
    evaluate_counter_offer, monthly_surplus, promise_minimum, promise_to_pay_allowed, propose_offers, stalling_check,
)
from bot.verification.sessions import Verification

# Causes that can pass: before concluding that no plan fits, ask when income should recover.
RECOVERABLE_CAUSES = {"job_loss", "illness", "reduced_income", "business", "family", "disaster"}
# Intents that ask for a (new) plan: checked against the anti-stalling rules first.
NEW_PLAN_INTENTS = {"ask_options", "explain_hardship", "inform_finances", "counter_offer"}


def position_of(statement: ArrearsStatement) -> AccountPosition:
    return AccountPosition(
        currency=statement.currency,
        annual_rate=statement.annual_rate,
        contractual_instalment=statement.contractual_instalment,
        outstanding_principal=statement.outstanding_principal,
        overdue_interest=statement.overdue_interest,
        fees=statement.late_fees,
        penalty_interest=statement.penalty_interest,
        arrears=statement.arrears,
        remaining_instalments=statement.remaining_instalments,
        days_past_due=statement.days_past_due,
    )


class Negotiation:
    """One turn of the negotiation: the tracker's state in, messages and slot events out."""

    def __init__(self, dispatcher: CollectingDispatcher, tracker: Tracker, verification: Verification) -> None:
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.lang = language(tracker)
        self.text = latest_text(tracker)
        self.understanding = understood(tracker, today())  # the last question first, then the classifier
        self.intent = self.understanding.intent
        self.facts = self.understanding.facts
        self.verification = verification  # the server's record, read once per turn by the caller
        self.loan_ref = verification.loan_reference
        self.services = services()
        self.events: list[EventType] = keep_verified()
        with self.services.db.unit_of_work() as session:
            self.statement = accounts(session).statement(self.loan_ref, today())
            self.history = negotiation_history(session, self.loan_ref, utc_now())

    # --- slots ---------------------------------------------------------------------------
    def slot(self, name: str):
        for event in reversed(self.events):
            if event.get("event") == "slot" and event.get("name") == name:
                return event.get("value")
        return self.tracker.get_slot(name)

    def set(self, name: str, value) -> None:
        self.events.append(SlotSet(name, value))

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.statement.currency, self.lang)

    def day(self, value) -> str:
        return format_date(value, self.lang)

    # --- the turn ------------------------------------------------------------------------
    def run(self) -> list[EventType]:
        if self.statement is None or not self.statement.is_overdue:
            say(self.dispatcher, "utter_nothing_to_negotiate")
            return self.events
        stage = self.slot("stage")
        handlers = {
            "explain_hardship": self.gather,
            "inform_finances": self.gather,
            "counter_offer": self.counter_offer,
            "promise_to_pay": self.promise,
            "pay_in_full": self.pay_in_full,
            "choose_option": self.choose,
            "accept_agreement": self.accept,
            "affirm": self.affirm,
            "deny": self.deny,
            "refuse_to_pay": self.refuse,
            "ask_options": self.options,
        }
        if self.intent in NEW_PLAN_INTENTS:
            stalled = stalling_check(self.history, self.services.policy)
            if stalled:
                return self.hand_over("stalling")
        # A bare "yes"/"no" to "why did you fall behind?" is an answer too: ask on.
        if stage == "cause" and self.intent in ("affirm", "deny"):
            return self.gather()
        # Amounts in answer to the income or costs question are finances, whatever the wording.
        if stage in ("income", "costs") and self.intent in ("affirm", "deny", "counter_offer", "pay_in_full") \
                and self.facts.amounts.any and self.facts.amounts.offer is None:
            return self.gather()
        return handlers.get(self.intent, self.options)()

    def remember(self) -> bool:
        """Record every fact of the message about the borrower's situation; whether it held one.

        Called for each message of the hardship-and-finances steps, whatever was asked:
        a cause, whether it will pass and how long, an income, costs. A fact never erases
        one given before that this message does not restate.
        """
        facts, money = self.facts, self.facts.amounts
        hardship = facts.cause is not None or facts.temporary is not None or self.intent == "explain_hardship"
        if facts.cause is not None:
            self.set("hardship_cause", facts.cause.value)
        elif self.intent == "explain_hardship" and self.slot("hardship_cause") is None:
            self.set("hardship_cause", "other")
        # "could I pay 200 a month for 18 months?" names the plan's length, not a recovery time
        months = facts.duration_months if hardship and money.offer is None else None
        if months is not None:
            self.set("recovery_months", months)
        temporary = facts.temporary if facts.temporary is not None else (True if months is not None else None)
        if temporary is not None:
            self.set("hardship_temporary", temporary)
        income, costs = self.slot("monthly_income"), self.slot("monthly_costs")
        if money.income is not None:
            income = str(money.income)
        if money.costs is not None:
            costs = str(money.costs)
        unlabelled = list(money.unlabelled)
        if unlabelled:
            stage = self.slot("stage")
            if stage == "costs" and money.costs is None:
                costs = str(sum(unlabelled, Decimal("0.00")))
            elif money.income is None and (income is None or stage == "income" or len(unlabelled) >= 2):
                income = str(unlabelled[0])
                if len(unlabelled) >= 2 and money.costs is None:
                    costs = str(sum(unlabelled[1:], Decimal("0.00")))
            elif money.costs is None and costs is None:
                costs = str(sum(unlabelled, Decimal("0.00")))
            elif money.income is None:
                income = str(unlabelled[0])  # "If a figure is wrong, just tell me the right one."
        self.set("monthly_income", income)
        self.set("monthly_costs", costs)
        return hardship or money.any or months is not None

    def gather(self) -> list[EventType]:
        """The hardship and finances steps: record what the message holds, then ask what is missing.

        Cause, income and costs in one message go straight to the offers; an answer to
        another question than the one asked is kept, and the question still open is asked.
        """
        cause_before, months_before = self.slot("hardship_cause"), self.slot("recovery_months")
        told = self.remember()
        if not told and self.slot("stage") != "recovery":  # "I don't know" answers the recovery question
            say(self.dispatcher, "utter_ask_amount_again")
            return self.events
        cause, months = self.slot("hardship_cause"), self.slot("recovery_months")
        if cause is not None and cause != cause_before:
            self.acknowledge_hardship()
        elif months is not None and months != months_before:
            say(self.dispatcher, "utter_ack_recovery", months=months_text(int(months), self.lang))
        finances = self.known_finances()
        if finances is not None:
            say(self.dispatcher, "utter_surplus", income=self.money(finances.net_income),
                costs=self.money(finances.essential_costs),
                surplus=self.money(monthly_surplus(finances, self.services.policy)))
            return self.propose()
        if self.slot("hardship_cause") is None and self.slot("monthly_income") is None:
            self.set("stage", "cause")
            say(self.dispatcher, "utter_ask_cause")
        elif self.slot("monthly_income") is None:
            self.set("stage", "income")
            say(self.dispatcher, "utter_ask_income")
        else:
            self.set("stage", "costs")
            say(self.dispatcher, "utter_ask_costs")
        return self.events

    def acknowledge_hardship(self) -> None:
        months = self.slot("recovery_months")
        recovery = ""
        if months:
            span = months_text(int(months), self.lang)
            recovery = (f"我会把大约 {span}的恢复期考虑进去。" if self.lang == "zh"
                        else f"I'll take the roughly {span} you need to recover into account.")
        say(self.dispatcher, "utter_ack_hardship", cause=cause_text(self.slot("hardship_cause"), self.lang),
            recovery=recovery)

    def known_finances(self) -> Finances | None:
        income, costs = self.slot("monthly_income"), self.slot("monthly_costs")
        if income is None or costs is None:
            return None
        return Finances(Decimal(income), Decimal(costs))

    def hardship_state(self) -> Hardship:
        months = self.slot("recovery_months")
        return Hardship(self.slot("hardship_cause"), self.slot("hardship_temporary"),
                        int(months) if months is not None else None)

    def options(self) -> list[EventType]:
        if self.slot("stage") in ("offered", "confirm") and self.facts.details:
            return self.details()
        if self.known_finances() is not None:
            return self.propose()
        if self.slot("hardship_cause") is None:
            self.set("stage", "cause")
            say(self.dispatcher, "utter_ask_cause")
        else:
            self.set("stage", "income")
            say(self.dispatcher, "utter_ask_income")
        return self.events

    def propose(self) -> list[EventType]:
        """Offers on the cheapest rung of the ladder the borrower has not yet declined (at most two)."""
        declined = int(self.slot("declined_rungs") or 0)
        proposal = propose_offers(position_of(self.statement), self.hardship_state(), self.known_finances(),
                                  self.history, self.services.policy, today(), declined=declined)
        if proposal.reason == "stalling":
            return self.hand_over("stalling")
        if proposal.reason == "ladder_exhausted":
            if proposal.nearest is not None:  # a person may approve what the bot may not
                say(self.dispatcher, "utter_agent_review")
                return self.hand_over("needs_approval", proposal.nearest)
            say(self.dispatcher, "utter_no_more_options")
            return self.events
        if proposal.offers:
            self.present(proposal.offers)
            self.ask_choice(len(proposal.offers))
            return self.events
        if self.should_ask_recovery():
            self.set("stage", "recovery")
            say(self.dispatcher, "utter_ask_recovery")
            return self.events
        if proposal.nearest is not None:
            say(self.dispatcher, "utter_agent_review")
            return self.hand_over("needs_approval", proposal.nearest)
        say(self.dispatcher, "utter_no_sustainable_plan")
        return self.hand_over("no_sustainable_plan")

    def present(self, offers, *, numbered: bool = True) -> None:
        """Show offers, record each as shown, and remember them for the choice."""
        all_terms = [offer_terms(offer) for offer in offers]
        with self.services.db.unit_of_work() as session:
            ids = [record_offer(session, conversation_id=self.tracker.sender_id, loan_reference=self.loan_ref,
                                terms=terms, now=utc_now()) for terms in all_terms]
        currency = self.statement.currency
        for index, (offer, terms) in enumerate(zip(offers, all_terms), start=1):
            # A grace plan states its good-faith payment with the offer: it is due before the instalments.
            good_faith = good_faith_text(terms, currency, self.lang) if offer.grace_months else ""
            say(self.dispatcher, "utter_offer", index=index if numbered else "", monthly=self.money(offer.monthly),
                months=offer.months, first_payment=self.day(_date(regular_start(terms))),
                total=self.money(offer.total_paid), concessions=concessions_text(terms, currency, self.lang),
                good_faith=(" " + good_faith) if good_faith and self.lang == "en" else good_faith)
        self.set("offers_made", [str(i) for i in ids])
        self.set("stage", "offered")

    def details(self) -> list[EventType]:
        """Each option shown, payment by payment (the first three and the last), then the open question again."""
        offered = [int(i) for i in self.slot("offers_made") or []]
        numbered = list(enumerate(offered, start=1))
        pending = self.pending_offer_id()
        if self.slot("stage") == "confirm" and pending in offered:
            numbered = [(offered.index(pending) + 1, pending)]  # the terms being confirmed, not every option
        with self.services.db.unit_of_work() as session:
            shown = [(index, offer_by_id(session, i, self.loan_ref, self.tracker.sender_id)) for index, i in numbered]
        for index, terms in shown:
            if terms is None:
                continue
            rows = terms["schedule"]
            lines = [f"{row['number']}. {self.day(_date(row['due']))}: {self.money(Decimal(row['amount']))}"
                     for row in (rows if len(rows) <= 4 else rows[:3])]
            if len(rows) > 4:
                last = rows[-1]
                lines += ["…", f"{last['number']}. {self.day(_date(last['due']))}: {self.money(Decimal(last['amount']))}"]
            say(self.dispatcher, "utter_offer_details", index=index,
                schedule="\n".join(lines), total=self.money(Decimal(terms["total_paid"])))
        if self.slot("stage") == "confirm":
            say(self.dispatcher, "utter_ask_confirm_again")
        else:
            self.ask_choice(len(offered))
        return self.events

    def should_ask_recovery(self) -> bool:
        """No plan fits as things are: ask when income should recover before concluding, once,
        for a cause that can pass and a recovery not yet told (DOMAIN.md: a grace period
        covers a temporary hardship with a known recovery)."""
        return (self.slot("hardship_cause") in RECOVERABLE_CAUSES and self.slot("recovery_months") is None
                and self.slot("hardship_temporary") is not False
                and not said_in_session(self.tracker, "utter_ask_recovery")
                and self.slot("stage") != "recovery")

    def ask_choice(self, count: int) -> None:
        """Ask which offer, with a button per offer and one for a person (plain-text payloads)."""
        say(self.dispatcher, "utter_choose_offer", buttons=choice_buttons(count, self.lang))

    def hand_over(self, reason: str, proposed: Offer | None = None) -> list[EventType]:
        self.set("handoff_reason", reason)
        if proposed is not None:
            self.set("proposed_offer", json.dumps(offer_terms(proposed)))
        self.events.append(FollowupAction("action_handoff"))
        return self.events

    def counter_offer(self) -> list[EventType]:
        money = self.facts.amounts
        if self.slot("stage") in (None, "cause", "income", "costs") and money.offer is None and money.any:
            return self.gather()  # "3000" after "what are your costs?" is not an offer to pay 3000
        if self.facts.cause is not None:
            self.remember()  # "I lost my job in March, could I do 200 a month?"
        amount = money.offer if money.offer is not None else parse_amount(self.text)
        if amount is None or amount <= 0:
            say(self.dispatcher, "utter_ask_amount_again")
            return self.events
        finances = self.known_finances()
        if finances is None:
            # The borrower's own figure is the best statement of what they can afford that we have.
            share = self.services.policy.affordability.surplus_share
            finances = Finances((amount / share).quantize(Decimal("0.01")) + Decimal("0.01"), Decimal("0.00"))
        position = position_of(self.statement)
        result = evaluate_counter_offer(amount, position, self.hardship_state(), finances, self.history,
                                        self.services.policy, today())
        if result.status is CounterOfferStatus.STALLING:
            return self.hand_over("stalling")
        if result.status is CounterOfferStatus.ACCEPTABLE and result.offer is not None:
            say(self.dispatcher, "utter_counter_accepted", amount=self.money(amount))
            self.present([result.offer], numbered=False)
            return self.confirm(0)
        key = {
            CounterOfferStatus.BELOW_FLOOR: "utter_counter_below_floor",
            CounterOfferStatus.TOO_LONG: "utter_counter_too_long",
            CounterOfferStatus.UNAFFORDABLE: "utter_counter_unaffordable",
        }[result.status]
        say(self.dispatcher, key, amount=self.money(amount), floor=self.money(result.floor),
            max_months=result.max_months, affordable=self.money(affordable_instalment(finances, self.services.policy)))
        if result.nearest is not None:
            say(self.dispatcher, "utter_nearest_offer")
            self.present([result.nearest])
            self.ask_choice(1)
        self.set("proposed_offer", json.dumps({"counter_offer": str(amount), "status": result.status.value}))
        if result.promise_to_pay_available:
            self.other_routes()
        return self.events

    def promise_terms(self) -> dict[str, str]:
        """What a promise to pay must cover and by when, phrased for a response."""
        policy = self.services.policy
        return {
            "min_promise": self.money(promise_minimum(position_of(self.statement), policy)),
            "horizon_date": self.day(today() + timedelta(days=policy.promise_to_pay.horizon_days)),
        }

    def other_routes(self) -> None:
        say(self.dispatcher, "utter_other_routes", **self.promise_terms())

    def promise(self) -> list[EventType]:
        amount = parse_amount(self.text)
        due = parse_future_date(self.text, today())
        if amount is None or due is None:
            say(self.dispatcher, "utter_ask_promise_details")
            return self.events
        allowed, _reason = promise_to_pay_allowed(amount, due, position_of(self.statement), self.history,
                                                  self.services.policy, today())
        if not allowed:
            say(self.dispatcher, "utter_promise_refused", **self.promise_terms())
            return self.events
        with self.services.db.unit_of_work() as session:
            record_promise(session, conversation_id=self.tracker.sender_id, loan_reference=self.loan_ref,
                           amount=amount, due_on=due, now=utc_now())
        say(self.dispatcher, "utter_promise_recorded", amount=self.money(amount), date=self.day(due))
        self.set("stage", "promised")
        return self.events

    def pay_in_full(self) -> list[EventType]:
        say(self.dispatcher, "utter_pay_in_full", arrears=self.money(self.statement.arrears), loan_ref=self.loan_ref)
        return self.events

    def refuse(self) -> list[EventType]:
        say(self.dispatcher, "utter_refuse_to_pay")
        return self.events

    def choose(self) -> list[EventType]:
        offers = self.slot("offers_made") or []
        number = self.facts.option
        if not offers:
            return self.options()
        if number is None and len(offers) == 1:
            return self.confirm(0)
        if number is None or number > len(offers):
            say(self.dispatcher, "utter_which_option")
            return self.events
        return self.confirm(number - 1)

    def confirm(self, index: int) -> list[EventType]:
        offer_id = int((self.slot("offers_made") or [])[index])
        with self.services.db.unit_of_work() as session:
            terms = offer_by_id(session, offer_id, self.loan_ref, self.tracker.sender_id)
        if terms is None:
            say(self.dispatcher, "utter_no_plan_to_accept")
            return self.events
        # Only the offer's id: what is signed is read back from the database, never from a slot.
        self.set("pending_offer", json.dumps({"offer_record_id": offer_id}))
        self.set("stage", "confirm")
        say(self.dispatcher, "utter_confirm_terms", monthly=self.money(Decimal(terms["monthly"])),
            months=terms["months"], first_payment=self.day(_date(regular_start(terms))),
            good_faith=good_faith_text(terms, self.statement.currency, self.lang),
            total=self.money(Decimal(terms["total_paid"])),
            concessions=concessions_text(terms, self.statement.currency, self.lang),
            dispute_channel=self.services.settings.dispute_channel)
        return self.events

    def affirm(self) -> list[EventType]:
        stage = self.slot("stage")
        if stage == "confirm":
            return self.accept()
        if stage == "offered" and len(self.slot("offers_made") or []) == 1:
            return self.confirm(0)
        if stage == "offered":
            say(self.dispatcher, "utter_which_option")
            return self.events
        return self.options()

    def deny(self) -> list[EventType]:
        """"No" to the options shown brings the next rung of the ladder; "no" to the terms of one
        option goes back to the options (the other one may suit)."""
        if self.slot("stage") == "offered" and self.known_finances() is not None:
            self.set("declined_rungs", int(self.slot("declined_rungs") or 0) + 1)
            self.set("pending_offer", None)
            say(self.dispatcher, "utter_next_rung")
            return self.propose()
        if self.slot("stage") in ("confirm", "offered"):
            self.set("stage", "offered")
            self.set("pending_offer", None)
            say(self.dispatcher, "utter_no_problem")
            return self.events
        say(self.dispatcher, "utter_how_can_i_help")
        return self.events

    def pending_offer_id(self) -> int | None:
        """The offer the borrower was asked to confirm (its id only; anything else in the slot is ignored)."""
        try:
            value = json.loads(self.slot("pending_offer") or "null")
            return int(value["offer_record_id"]) if isinstance(value, dict) else None
        except (ValueError, TypeError, KeyError):
            return None

    def accept(self) -> list[EventType]:
        offer_id = self.pending_offer_id()
        if self.slot("stage") == "agreed" and offer_id is None:
            return self.already_agreed()
        if self.slot("stage") != "confirm" or offer_id is None:
            if self.slot("stage") == "offered":
                say(self.dispatcher, "utter_which_option")
            else:
                say(self.dispatcher, "utter_no_plan_to_accept")
            return self.events
        settings = self.services.settings
        now = utc_now()
        with self.services.db.unit_of_work() as session:
            terms = offer_by_id(session, offer_id, self.loan_ref, self.tracker.sender_id)
            if terms is None:  # not an offer shown in this conversation for this loan
                say(self.dispatcher, "utter_no_plan_to_accept")
                return self.events
            repository = accounts(session)
            borrower = repository.borrower_of(repository.loan_by_reference(self.loan_ref))
            signed = sign_agreement(
                session, conversation_id=self.tracker.sender_id, loan_reference=self.loan_ref,
                borrower_name=borrower.full_name, language=self.lang, terms=terms, offer_record_id=offer_id,
                acceptance_text=self.text, now=now,
                record={
                    "loan_reference": self.loan_ref,
                    "lender": settings.lender_name,
                    "borrower_name": borrower.full_name,
                    "currency": self.statement.currency,
                    "verification": {
                        "method": "loan_reference_and_date_of_birth",
                        "channel": self.tracker.get_latest_input_channel(),
                        "verified_at": self.verification.verified_at.isoformat(timespec="seconds"),
                    },
                    "balance": {
                        "principal": str(self.statement.outstanding_principal),
                        "overdue_interest": str(self.statement.overdue_interest),
                        "fees": str(self.statement.late_fees + self.statement.penalty_interest),
                        "arrears": str(self.statement.arrears),
                    },
                    "default_after_days_late": services().policy.lifecycle.plan_default_after_days,
                    "dispute_channel": settings.dispute_channel,
                    "acceptance_text": self.text[:2000],
                    "accepted_at": now.isoformat(timespec="seconds") + "Z",
                    "conversation_id": self.tracker.sender_id,
                },
            )
            reference = signed.agreement.reference
            signed_terms = json.loads(signed.agreement.terms_json)["terms"]
        self.tell_signed(reference, signed_terms, created=signed.created)
        self.set("stage", "agreed")
        self.set("pending_offer", None)
        self.set("agreement_ref", reference)
        return self.events


    def already_agreed(self) -> list[EventType]:
        """"I agree" again after signing: the agreement this conversation signed, not a new one."""
        with self.services.db.unit_of_work() as session:
            agreement = latest_agreement(session, self.loan_ref, conversation_id=self.tracker.sender_id)
            terms = json.loads(agreement.terms_json)["terms"] if agreement is not None else None
            reference = agreement.reference if agreement is not None else None
        if reference is None:
            say(self.dispatcher, "utter_no_plan_to_accept")
            return self.events
        self.tell_signed(reference, terms, created=False)
        return self.events

    def tell_signed(self, reference: str, terms: dict, *, created: bool) -> None:
        """The agreement's reference, its first payment and the link to the document."""
        settings = self.services.settings
        url = agreement_url(settings.public_base_url, settings.link_secret, reference)
        schedule = terms["schedule"]
        first = schedule[0] if schedule else {"amount": terms["monthly"], "due": terms["first_payment"]}
        say(self.dispatcher, "utter_agreement_signed" if created else "utter_agreement_already_signed",
            reference=reference, first_amount=self.money(Decimal(first["amount"])),
            first_payment=self.day(_date(first["due"])))
        say(self.dispatcher, "utter_agreement_link", reference=reference, url=url)


def _date(value: str) -> date:
    return date.fromisoformat(value)


class ActionNegotiate(BorrowerAction):
    """Every negotiation intent: hardship, finances, offers, counter-offers, promises, acceptance."""

    def name(self) -> Text:
        return "action_negotiate"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        verification = current_verification(tracker)
        if verification is None:
            return await verify_and_continue(dispatcher, tracker)
        return Negotiation(dispatcher, tracker, verification).run()
