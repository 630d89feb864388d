"""Short answers read without the classifier: an option number, and a plain yes or no.

Both are read only where the bot asked for them (``bot.dialogue``): "1" after a list of
options is option 1, "好的" after the terms is yes; elsewhere they mean nothing by themselves.
"""
from __future__ import annotations

import re

from bot.language.text import prepare

# "one/two/three" only after "option", "plan"... or alone: "that one" and "one of them" pick nothing.
_OPTION_NUMBER = re.compile(
    r"(?i)\b([1-3])\b|\b(first|(?<=option )one|(?<=plan )one|(?<=number )one|^one$)\b"
    r"|\b(second|(?<=option )two|(?<=plan )two|(?<=number )two|^two$)\b"
    r"|\b(third|(?<=option )three|(?<=plan )three|(?<=number )three|^three$)\b|([一二三])|[第方案选]\s*([1-3])")
_CHINESE_ORDINAL = {"一": 1, "二": 2, "三": 3}
_WORD_ORDINAL = {"first": 1, "one": 1, "second": 2, "two": 2, "third": 3, "three": 3}

# Whole-message answers only ("yes" alone, not "yes but ..."): punctuation and filler ignored.
_YES = re.compile(
    r"^(?:yes|yeah|yea|yep|yup|ya|sure|ok|okay|k|fine|alright|all right|agreed|i agree|deal|correct|right"
    r"|go ahead|sounds good|that works|that's fine|yes please|ok then|好|好的|好吧|行|可以|是|是的|对|对的|嗯|嗯嗯"
    r"|同意|我同意|没问题|成交|就这样|确认)$", re.I)
_NO = re.compile(
    r"^(?:no|nope|nah|no thanks|no thank you|not really|not this one|not that one|no way|don'?t|"
    r"不|不要|不行|不用|不了|算了|不同意|不要这个|不要这个方案|不是|不对)$", re.I)
_TRIM = re.compile(r"^[\s.,!?。，！？~…]+|[\s.,!?。，！？~…]+$")


def parse_option(text: str) -> int | None:
    """The option number a message picks (1-3): "2", "the second one", "方案二", "选1"."""
    match = _OPTION_NUMBER.search(_TRIM.sub("", prepare(text)))
    if not match:
        return None
    digit, first, second, third, chinese, prefixed = match.groups()
    if digit or prefixed:
        return int(digit or prefixed)
    if chinese:
        return _CHINESE_ORDINAL[chinese]
    return _WORD_ORDINAL[(first or second or third).lower()]


def parse_yes_no(text: str) -> bool | None:
    """True for a message that is only a yes, False for only a no, None otherwise."""
    answer = _TRIM.sub("", prepare(text)).lower()
    if _YES.match(answer):
        return True
    if _NO.match(answer):
        return False
    return None


_DETAILS = re.compile(
    r"(?i)^(?:(?:can i |could i |please )?(?:see |show me |send me )?(?:the |more |full )?"
    r"(?:details?|schedule|breakdown|payment schedule|more info(?:rmation)?)(?: please| pls)?)$"
    r"|详细|明细|详情|还款计划表|每期(?:多少|明细|日期)|具体(?:安排|一点|点)")


def asks_for_details(text: str) -> bool:
    """"details", "show me the schedule", "详细", "明细": the borrower wants an offer's payments spelt out."""
    return bool(_DETAILS.search(_TRIM.sub("", prepare(text))))
