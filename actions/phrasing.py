"""Phrases assembled into responses: hardship acknowledgements per language (concessions: bot.agreements.wording).

Whole sentences live in domain.yml; these are the fragments an offer or an
acknowledgement is built from, which a fixed response cannot enumerate.
"""
from __future__ import annotations

from bot.agreements.wording import CONCESSIONS, INTEREST, concessions_text

__all__ = ["CAUSES", "CONCESSIONS", "INTEREST", "cause_text", "choice_buttons", "concessions_text"]

CAUSES = {
    "en": {
        "illness": "health problems and medical costs", "job_loss": "losing your job",
        "reduced_income": "a drop in income", "business": "trouble with your business",
        "family": "family circumstances", "bereavement": "a bereavement", "disaster": "a disaster",
        "dispute": "a disagreement about the account", "forgot": "a missed reminder",
        "other": "what happened",
    },
    "zh": {
        "illness": "生病和医疗费用", "job_loss": "失业", "reduced_income": "收入减少", "business": "生意上的困难",
        "family": "家庭变故", "bereavement": "亲人离世", "disaster": "灾害", "dispute": "账户上的分歧",
        "forgot": "忘记还款的情况", "other": "这样的情况",
    },
}


def cause_text(cause: str | None, lang: str) -> str:
    return CAUSES[lang].get(cause or "other", CAUSES[lang]["other"])


def choice_buttons(count: int, lang: str) -> list[dict[str, str]]:
    """One button per offer and one for a person; each sends text the borrower could have typed."""
    option = "方案{}" if lang == "zh" else "Option {}"
    person = "转人工" if lang == "zh" else "Talk to a person"
    return [{"title": option.format(n), "payload": option.format(n)} for n in range(1, count + 1)] + [
        {"title": person, "payload": person}]
