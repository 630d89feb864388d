"""What each question the bot asks expects back: one table, read by ``understanding``.

A question is a domain response (``utter_ask_dob``...). Its expectation says which
deterministic reading answers it (a date of birth, an amount, an option number...) and
which intents fit that step: after an offer, choosing, accepting, refusing, a counter-offer,
a question or a person all fit; a greeting does not. tests/unit/test_dialogue_understanding.py
checks that every question in domain.yml is declared here.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Expect(str, Enum):
    IDENTITY = "identity"              # a loan reference and/or a date of birth
    DATE_OF_BIRTH = "date_of_birth"
    LOAN_REFERENCE = "loan_reference"
    CAUSE = "cause"                    # why they fell behind
    INCOME = "income"                  # an amount (zero included)
    COSTS = "costs"                    # an amount
    AMOUNT = "amount"                  # an amount, after "I didn't find an amount"
    OPTION = "option"                  # an option number, or a counter-offer amount
    CONFIRM = "confirm"                # yes or no to the terms shown
    PROMISE = "promise"                # an amount and a date
    RECOVERY = "recovery"              # when income should pick up again (or that they don't know)


# Intents a person may always use, whatever was asked: never re-read as an answer.
PROTECTED_INTENTS = frozenset({
    "request_human", "complain", "dispute_debt", "legal_representation", "vulnerable", "self_harm", "abuse",
    "legal_threat", "third_party", "wrong_person", "stop_contact", "EXTERNAL_agent_handed_back",
    "EXTERNAL_outreach", "EXTERNAL_desk_unclaimed", "EXTERNAL_agent_closed",
})

_IDENTITY_STEP = frozenset({"provide_identity", "ask_purpose", "bot_challenge"})
_FINANCES_STEP = frozenset({"inform_finances", "explain_hardship", "counter_offer", "ask_options", "ask_arrears",
                            "refuse_to_pay"})
_OFFER_STEP = frozenset({"choose_option", "accept_agreement", "deny", "affirm", "counter_offer", "ask_options",
                         "ask_arrears", "promise_to_pay", "pay_in_full", "refuse_to_pay"})


@dataclass(frozen=True)
class Step:
    """One question's expectation and the intents that fit the step it opens."""

    expect: Expect
    fitting: frozenset[str]


STEPS: dict[Expect, Step] = {
    Expect.IDENTITY: Step(Expect.IDENTITY, _IDENTITY_STEP),
    Expect.DATE_OF_BIRTH: Step(Expect.DATE_OF_BIRTH, _IDENTITY_STEP),
    Expect.LOAN_REFERENCE: Step(Expect.LOAN_REFERENCE, _IDENTITY_STEP),
    Expect.CAUSE: Step(Expect.CAUSE, _FINANCES_STEP),
    Expect.INCOME: Step(Expect.INCOME, _FINANCES_STEP),
    Expect.COSTS: Step(Expect.COSTS, _FINANCES_STEP),
    Expect.AMOUNT: Step(Expect.AMOUNT, _FINANCES_STEP | _OFFER_STEP),
    Expect.OPTION: Step(Expect.OPTION, _OFFER_STEP),
    Expect.CONFIRM: Step(Expect.CONFIRM, _OFFER_STEP),
    Expect.RECOVERY: Step(Expect.RECOVERY, _FINANCES_STEP | {"deny", "affirm"}),
    Expect.PROMISE: Step(Expect.PROMISE, frozenset({"promise_to_pay", "counter_offer", "pay_in_full", "ask_options",
                                                    "ask_arrears", "refuse_to_pay", "deny"})),
}

# Every question the bot asks, by the response that asks it.
ASKS: dict[str, Expect] = {
    "utter_ask_identity": Expect.IDENTITY,
    "utter_verification_failed": Expect.IDENTITY,
    "utter_ask_dob": Expect.DATE_OF_BIRTH,
    "utter_impossible_date": Expect.DATE_OF_BIRTH,
    "utter_ask_loan_ref": Expect.LOAN_REFERENCE,
    "utter_ask_cause": Expect.CAUSE,
    "utter_ask_income": Expect.INCOME,
    "utter_ask_costs": Expect.COSTS,
    "utter_ask_amount_again": Expect.AMOUNT,
    "utter_choose_offer": Expect.OPTION,
    "utter_which_option": Expect.OPTION,
    "utter_no_problem": Expect.OPTION,
    "utter_confirm_terms": Expect.CONFIRM,
    "utter_present_approved_offer": Expect.CONFIRM,
    "utter_ask_promise_details": Expect.PROMISE,
    "utter_promise_refused": Expect.PROMISE,
    "utter_ask_recovery": Expect.RECOVERY,
    "utter_ask_confirm_again": Expect.CONFIRM,
    # A proactive message asks for a reply; identity details in it are read as such.
    "utter_outreach_notice": Expect.IDENTITY,
}

# After a side question mid-flow ("how much do I owe?", "are you a bot?"), the open question
# is asked again, briefly: the response that asks it again (None: nothing to resume).
ASK_AGAIN: dict[Expect, str | None] = {
    Expect.IDENTITY: "utter_ask_identity",
    Expect.DATE_OF_BIRTH: "utter_ask_dob",
    Expect.LOAN_REFERENCE: "utter_ask_loan_ref",
    Expect.CAUSE: "utter_ask_cause",
    Expect.INCOME: "utter_ask_income",
    Expect.COSTS: "utter_ask_costs",
    Expect.AMOUNT: None,  # "I didn't find an amount" is no question to repeat; the stage's question was
    Expect.OPTION: "utter_choose_offer",
    Expect.CONFIRM: "utter_ask_confirm_again",
    Expect.PROMISE: "utter_ask_promise_details",
    Expect.RECOVERY: "utter_ask_recovery",
}

# Questions on the side of the flow: answered, then the open question is asked again.
SIDE_INTENTS = frozenset({"ask_arrears", "bot_challenge", "ask_purpose", "greet"})


def step_after(responses: list[str]) -> Step | None:
    """The step opened by the bot's last turn: its last question, if it asked one."""
    for response in reversed(responses):
        if response in ASKS:
            return STEPS[ASKS[response]]
    return None
