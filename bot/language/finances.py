"""What each amount in a message is: income, essential costs, an offer to pay, or unsaid.

"I bring home about 9000 and rent plus bills come to 7200" holds an income and a cost;
"每个月 essential 开销大概 3000" is a cost even when the question was about income;
"could I do 200 a month?" is an offer. The message is cut into clauses at punctuation
and conjunctions, and each clause again at every label word; an amount takes the label
of the piece it is in, or, when its piece has none, the label of the next label word in
the same clause ("9000 income"). Amounts with no label anywhere in their clause stay
unlabelled: the question the bot asked decides what they are (``bot.dialogue``).

A zero statement ("收入现在是零", "nothing coming in") is an amount of 0.00: in an income
piece an income of nil, otherwise unlabelled.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from bot.language.amounts import is_zero_statement, parse_amounts
from bot.language.text import prepare

ZERO = Decimal("0.00")


class Label(str, Enum):
    INCOME = "income"
    COSTS = "costs"
    OFFER = "offer"


_LABEL_WORDS: dict[Label, str] = {
    Label.INCOME: (
        r"\b(?:income|earn\w*|salary|salaries|wages?|paycheck|pay ?cheque|take[- ]home|bring(?:ing)? (?:in|home)"
        r"|brings? (?:in|home)|coming in|comes in|get(?:ting)? paid|(?:i|we) make|making|pension|benefits?|allowance|turnover)\b"
        r"|收入|工资|薪水|薪资|月薪|底薪|到手|挣|赚|进账|退休金|养老金|补助|低保"
    ),
    Label.COSTS: (
        r"\b(?:costs?|rent|bills?|spend\w*|expenses?|outgoings?|food|groceries|transport\w*|utilit\w*"
        r"|mortgage|childcare|school fees|tuition|medicine|insurance|living)\b"
        r"|开支|开销|花销|花费|支出|房租|租金|房贷|水电|生活费|伙食|吃饭|交通|学费|医药费|药费|日常|必要"
    ),
    Label.OFFER: (
        r"\b(?:could (?:i |we )?(?:do|pay|manage|afford|offer)|can (?:i |we )?(?:do|pay|manage|afford|offer)"
        r"|i'?ll pay|i will pay|able to pay|(?:i|we) (?:can|could) (?:only )?(?:do|pay|manage|afford|offer|put)"
        r"|how about|what about|offer)\b"
        r"|能还|可以还|还得起|能付|可以付|能拿出|只能还|最多还|最多能|先还|每个?月还|月供.{0,3}(?:行|可以)"
    ),
}
_LABEL_RE = re.compile("|".join(f"(?P<{label.value}>{pattern})" for label, pattern in _LABEL_WORDS.items()),
                       re.IGNORECASE)
# Clause boundaries: sentence punctuation (not a thousands comma or a decimal point) and conjunctions.
_BOUNDARY = re.compile(
    r"(?<!\d),|,(?!\d{3}\b)|\.(?!\d)|[;!?\n，。；！？、]|\b(?:and|but|plus|while|whereas|then)\b"
    r"|而且|但是|但|不过|另外|然后|再加上|加上",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LabelledAmounts:
    """The amounts of one message by what they are; income and offer are the first such amount."""

    income: Decimal | None = None
    costs: Decimal | None = None  # every cost amount added up: "rent 3000, food 1500" is 4500
    offer: Decimal | None = None
    unlabelled: tuple[Decimal, ...] = field(default=())

    @property
    def any(self) -> bool:
        return self.income is not None or self.costs is not None or self.offer is not None or bool(self.unlabelled)


def _pieces(clause: str) -> list[tuple[Label | None, str]]:
    """The clause cut at every label word, each piece with its label (None before the first)."""
    matches = list(_LABEL_RE.finditer(clause))
    if not matches:
        return [(None, clause)]
    pieces: list[tuple[Label | None, str]] = [(None, clause[:matches[0].start()])]
    for match, following in zip(matches, matches[1:] + [None]):
        end = following.start() if following is not None else len(clause)
        pieces.append((Label(match.lastgroup), clause[match.start():end]))
    return pieces


def label_amounts(text: str) -> LabelledAmounts:
    """Every amount of ``text`` labelled as income, costs or an offer where the words say so."""
    found: dict[Label, list[Decimal]] = {label: [] for label in Label}
    unlabelled: list[Decimal] = []
    for clause in _BOUNDARY.split(prepare(text)):
        pieces = _pieces(clause)
        labels_after = [label for label, _ in pieces if label is not None]
        in_clause = 0
        for label, piece in pieces:
            amounts = parse_amounts(piece)
            if label is None and labels_after:
                label = labels_after[0]  # "9000 income": the label follows the amount
            (found[label] if label is not None else unlabelled).extend(amounts)
            in_clause += len(amounts)
        # "I've got no income coming in": a zero statement spans its label words.
        if not in_clause and is_zero_statement(clause):
            (found[labels_after[0]] if labels_after else unlabelled).append(ZERO)
    costs = found[Label.COSTS]
    return LabelledAmounts(
        income=found[Label.INCOME][0] if found[Label.INCOME] else None,
        costs=sum(costs, ZERO) if costs else None,
        offer=found[Label.OFFER][0] if found[Label.OFFER] else None,
        unlabelled=tuple(unlabelled),
    )
