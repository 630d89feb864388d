"""Counted words by the language's plural rules (CLDR, through Babel): "1 attempt", "2 attempts".

Chinese has one form ("2 次", "1 个月"); English two. Babel's plural rules are the ones ICU uses,
so a language added later gets its forms ("few", "many"...) without code here.
"""
from __future__ import annotations

from functools import lru_cache

from babel import Locale


@lru_cache(maxsize=None)
def _locale(lang: str) -> Locale:
    return Locale.parse("zh_Hans" if lang == "zh" else lang)


def counted(count: int, lang: str, forms: dict[str, str]) -> str:
    """``forms`` by CLDR plural category ("one", "other"...), each with ``{n}``; "other" is required."""
    category = _locale(lang).plural_form(count)
    return forms.get(category, forms["other"]).format(n=count)
