"""Why a borrower fell behind, and whether they expect it to pass.

Keyword and pattern rules in both languages. When a message names several
causes, the most specific one wins, in this order: bereavement, illness,
disaster, job loss, reduced income, business, family, dispute, forgot.
(A death or an illness explains a job loss or a family strain, not the
other way round, and shapes how the agent should speak.)
"""
from __future__ import annotations

import re
from enum import Enum

from bot.language.references import normalise


class HardshipCause(str, Enum):
    """The reason for arrears, as recorded on the case and shown to agents."""

    ILLNESS = "illness"
    JOB_LOSS = "job_loss"
    REDUCED_INCOME = "reduced_income"
    BUSINESS = "business"
    FAMILY = "family"
    BEREAVEMENT = "bereavement"
    DISASTER = "disaster"
    DISPUTE = "dispute"
    FORGOT = "forgot"
    OTHER = "other"


_RELATIVE = (
    r"(?:father|mother|dad|mum|mom|husband|wife|son|daughter|brother|sister|"
    r"grand(?:father|mother|ma|pa)|parents?|partner|child|baby)"
)

# (cause, English pattern, Chinese pattern), most specific first.
_CAUSE_RULES: list[tuple[HardshipCause, str, str]] = [
    (
        HardshipCause.BEREAVEMENT,
        rf"\b(?:died|passed\s+away|passing|death|funeral|bereave\w*|widow(?:ed)?|"
        rf"lost\s+my\s+{_RELATIVE}|{_RELATIVE}\s+(?:has\s+)?(?:died|passed))\b",
        r"去世|过世|過世|病逝|逝世|离世|死了|葬礼|丧事|办丧|丧偶",
    ),
    (
        HardshipCause.ILLNESS,
        r"\b(?:sick|ill|illness|hospital\w*|medical|medicine|surgery|operation|cancer|"
        r"disease|injur\w*|accident|treatment|doctor|covid|pregnan\w*|chemo\w*|"
        r"stroke|heart\s+attack|mental\s+health|depress\w*|disabled|disability|health)\b",
        r"住院|医药费|醫藥費|医疗|生病|病了|看病|手术|治疗|医院|癌|受伤|车祸|怀孕|抑郁|疾病|身体不好|病",
    ),
    (
        HardshipCause.DISASTER,
        r"\b(?:flood\w*|earthquake|fire|typhoon|storm|hurricane|landslide|disaster|"
        r"tornado|drought|burn(?:ed|t)\s+down)\b",
        r"地震|洪水|火灾|台风|水灾|灾害|天灾|泥石流|暴雨|旱灾|受灾|着火",
    ),
    (
        HardshipCause.JOB_LOSS,
        r"\b(?:lost\s+(?:my|the|our)\s+(?:job|work|position)|laid\s+off|lay-?off|fired|"
        r"unemployed|out\s+of\s+work|redundan\w*|jobless|let\s+go|sacked|no\s+job|"
        r"(?:contract|job)\s+ended|between\s+jobs|looking\s+for\s+(?:a\s+)?(?:job|work))\b",
        r"失业|失業|被裁|裁员|没工作|没有工作|丢了工作|工作丢了|辞退|被开除|下岗|找不到工作|离职|丢工作",
    ),
    (
        HardshipCause.REDUCED_INCOME,
        r"\b(?:pay\s+cut|salary\s+cut|wage\s+cut|cut\s+my\s+(?:hours|pay|salary)|"
        r"(?:hours|pay|salary|wages?)\s+(?:were\s+|was\s+|got\s+)?(?:cut|reduced)|"
        r"reduced\s+(?:hours|income|salary|pay)|less\s+(?:work|income|money|hours)|"
        r"income\s+(?:dropped|fell|went\s+down)|earning\s+less|lower\s+income|"
        r"(?:salary|wages?|pay)\s+(?:delayed|late|not\s+paid)|haven'?t\s+been\s+paid|part-?time\s+now)\b",
        r"降薪|减薪|工资降|收入减少|收入降低|收入下降|工资减少|工资少|欠薪|拖欠工资|工资没发|没发工资|工资拖欠|收入少|降工资",
    ),
    (
        HardshipCause.BUSINESS,
        r"\b(?:business|shop|store|restaurant|my\s+company|customers?|clients?|factory|"
        r"startup|orders?\s+(?:dropped|stopped)|cash\s*flow|bankrupt\w*)\b",
        r"生意|店铺|开店|做生意|亏本|亏损|倒闭|客户不付|周转|资金链|破产|档口",
    ),
    (
        HardshipCause.FAMILY,
        r"\b(?:divorce\w*|separated|separation|family|child(?:ren)?|kids?|baby|"
        r"school\s+fees|tuition|caring\s+for|care\s+of\s+my|wedding)\b",
        r"离婚|分居|家里|家人|家庭|孩子|小孩|父母|老人|学费|照顾|结婚|家事",
    ),
    (
        HardshipCause.DISPUTE,
        r"\b(?:dispute\w*|disagree|don'?t\s+owe|do\s+not\s+owe|not\s+my\s+(?:loan|debt)|"
        r"wrong\s+(?:amount|balance)|overcharg\w*|never\s+borrowed|identity\s+theft|fraud\w*|"
        r"already\s+paid|unfair\s+(?:fees?|charges?))\b",
        r"争议|不是我借的|金额不对|金额有误|多收|乱收费|已经还了|已经还过|不认|冒用|盗用",
    ),
    (
        HardshipCause.FORGOT,
        r"\b(?:forgot|forget|forgotten|slipped\s+my\s+mind|didn'?t\s+remember|overlooked|"
        r"missed\s+the\s+(?:date|deadline|due\s+date))\b",
        r"忘了|忘记|忘掉|没注意|没记住|记错",
    ),
]
_COMPILED = [
    (cause, re.compile(en, re.IGNORECASE), re.compile(zh)) for cause, en, zh in _CAUSE_RULES
]
_OTHER = re.compile(r"\b(?:other|personal\s+reasons?|something\s+else)\b|其他|其它|个人原因|别的原因", re.I)


def classify_cause(text: str) -> HardshipCause | None:
    """The hardship cause ``text`` names; OTHER for "personal reasons"; None if none."""
    normalised = normalise(text)
    for cause, english, chinese in _COMPILED:
        if english.search(normalised) or chinese.search(normalised):
            return cause
    if _OTHER.search(normalised):
        return HardshipCause.OTHER
    return None


_PERMANENT = re.compile(
    r"\b(?:not|isn'?t|won'?t\s+be)\s+(?:just\s+)?(?:temporary|short[-\s]term)\b"
    r"|\bpermanent\w*|\bfor\s+life\b|\bforever\b|\bchronic\b|\blong[-\s]term\b"
    r"|\bnever\s+(?:be\s+able|work|recover|get\s+better|go\s+back)\w*|\bincurable\b|\bterminal\b"
    r"|不是暂时|不是临时|再也|永久|永远|终身|一辈子|长期|治不好|不会好|没希望",
    re.IGNORECASE,
)
_NOT_PERMANENT = re.compile(r"\b(?:not|isn'?t|won'?t\s+be)\s+permanent\b|不是永久|不会一直", re.IGNORECASE)
_TEMPORARY = re.compile(
    r"\btemporar\w*|\bfor\s+now\b|\bshort[-\s]term\b"
    r"|\bfor\s+(?:a|about|around|another)?\s*(?:few|couple(?:\s+of)?|some|\d+|one|two|three|four|five|six)\s+"
    r"(?:days|weeks|months)\b"
    r"|\buntil\s+I\s+(?:find|get|start|recover|am\s+better|go\s+back)\b"
    r"|\bexpect(?:ing)?\s+(?:a\s+|to\s+start\s+(?:a\s+)?|to\s+get\s+(?:a\s+)?)?new\s+(?:work|job)\b"
    r"|\bnew\s+job\s+(?:starts|next)|\bstart(?:ing)?\s+(?:a\s+)?new\s+job\b|\bback\s+to\s+work\b"
    r"|\b(?:will|should)\s+(?:recover|get\s+better|improve|pick\s+up)\b|(?<!as\s)\bsoon\b|\bonly\s+for\b"
    r"|暂时|暫時|临时|短期|找到工作就|过段时间|过一段时间|过几个月|很快|就会好|会好起来|恢复|好转|新工作|几个月就",
    re.IGNORECASE,
)


def is_temporary(text: str) -> bool | None:
    """Whether the borrower expects the hardship to pass; None when unsaid.

    A negated "not permanent" is temporary. Otherwise a permanent signal
    ("permanent", "for life", "再也", "永久", "not temporary") wins over a
    temporary one: treating a lasting hardship
    as passing would offer plans the borrower cannot keep.
    """
    normalised = normalise(text)
    if _NOT_PERMANENT.search(normalised):
        return True
    if _PERMANENT.search(normalised):
        return False
    if _TEMPORARY.search(normalised):
        return True
    return None
