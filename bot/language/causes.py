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

from bot.language.text import prepare


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
        rf"\b(?:died|passed away|passing|death|funeral|bereave\w*|widow(?:ed)?|"
        rf"lost my {_RELATIVE}|{_RELATIVE} (?:has )?(?:died|passed))\b",
        r"去世|过世|過世|病逝|逝世|离世|死了|葬礼|丧事|办丧|丧偶",
    ),
    (
        HardshipCause.ILLNESS,
        r"\b(?:sick|ill|illness|hospital\w*|medical|medicine|surgery|operation|cancer|"
        r"disease|injur\w*|accident|treatment|doctor|covid|pregnan\w*|chemo\w*|"
        r"stroke|heart attack|mental health|depress\w*|disabled|disability|health|"
        r"(?:knee|hip) replacement|physio\w*|therapy|asthma|diabet\w*|insurance (?:paid|covered|didn'?t)|"
        r"prescriptions?|dentist|dental|rehab\w*|recover(?:y|ing) from)\b",
        r"住院|医药费|醫藥費|医疗|生病|病了|看病|手术|治疗|医院|癌|受伤|车祸|怀孕|抑郁|疾病|身体不好|病|哮喘|药费|医保|康复",
    ),
    (
        HardshipCause.DISASTER,
        r"\b(?:flood\w*|earthquake|fire|typhoon|storm|hurricane|landslide|disaster|"
        r"tornado|drought|burn(?:ed|t) down)\b",
        r"地震|洪水|火灾|台风|水灾|灾害|天灾|泥石流|暴雨|旱灾|受灾|着火",
    ),
    (
        HardshipCause.JOB_LOSS,
        r"\b(?:lost (?:my|the|our) (?:job|work|position)|laid off|lay-?off|fired|"
        r"unemployed|out of work|redundan\w*|jobless|let go|sacked|no job|"
        r"(?:contract|job) ended|between jobs|looking for (?:a )?(?:job|work))\b",
        r"失业|失業|被裁|裁员|没工作|没有工作|丢了工作|工作丢了|辞退|被开除|下岗|找不到工作|离职|丢工作",
    ),
    (
        HardshipCause.REDUCED_INCOME,
        r"\b(?:pay cut|salary cut|wage cut|cut my (?:hours|pay|salary)|"
        r"(?:hours|pay|salary|wages?) (?:were |was |got )?(?:cut|reduced)|"
        r"reduced (?:hours|income|salary|pay)|less (?:work|income|money|hours)|"
        r"income (?:dropped|fell|went down)|earning less|lower income|"
        r"(?:salary|wages?|pay) (?:delayed|late|not paid)|haven'?t been paid|part-?time now)\b",
        r"降薪|减薪|工资降|收入减少|收入降低|收入下降|工资减少|工资少|欠薪|拖欠工资|工资没发|没发工资|工资拖欠|收入少|降工资",
    ),
    (
        HardshipCause.BUSINESS,
        r"\b(?:business|shop|store|restaurant|my company|customers?|clients?|factory|"
        r"startup|orders? (?:dropped|stopped)|cash ?flow|bankrupt\w*)\b",
        r"生意|店铺|开店|做生意|亏本|亏损|倒闭|客户不付|周转|资金链|破产|档口",
    ),
    (
        HardshipCause.FAMILY,
        r"\b(?:divorce\w*|separated|separation|family|child(?:ren)?|kids?|baby|"
        r"school fees|tuition|caring for|care of my|wedding)\b",
        r"离婚|分居|家里|家人|家庭|孩子|小孩|父母|老人|学费|照顾|结婚|家事",
    ),
    (
        HardshipCause.DISPUTE,
        r"\b(?:dispute\w*|disagree|don'?t owe|do not owe|not my (?:loan|debt)|"
        r"wrong (?:amount|balance)|overcharg\w*|never borrowed|identity theft|fraud\w*|"
        r"already paid|unfair (?:fees?|charges?))\b",
        r"争议|不是我借的|金额不对|金额有误|多收|乱收费|已经还了|已经还过|不认|冒用|盗用",
    ),
    (
        HardshipCause.FORGOT,
        r"\b(?:forgot|forget|forgotten|slipped my mind|didn'?t remember|overlooked|"
        r"missed the (?:date|deadline|due date))\b",
        r"忘了|忘记|忘掉|没注意|没记住|记错",
    ),
]
_COMPILED = [
    (cause, re.compile(en, re.IGNORECASE), re.compile(zh)) for cause, en, zh in _CAUSE_RULES
]
_OTHER = re.compile(r"\b(?:other|personal reasons?|something else)\b|其他|其它|个人原因|别的原因", re.I)


def classify_cause(text: str) -> HardshipCause | None:
    """The hardship cause ``text`` names; OTHER for "personal reasons"; None if none."""
    normalised = prepare(text)
    for cause, english, chinese in _COMPILED:
        if english.search(normalised) or chinese.search(normalised):
            return cause
    if _OTHER.search(normalised):
        return HardshipCause.OTHER
    return None


_PERMANENT = re.compile(
    r"\b(?:not|isn'?t|won'?t be) (?:just )?(?:temporary|short[-\s]term)\b"
    r"|\bpermanent\w*|\bfor life\b|\bforever\b|\bchronic\b|\blong[-\s]term\b"
    r"|\bnever (?:be able|work|recover|get better|go back)\w*|\bincurable\b|\bterminal\b"
    r"|不是暂时|不是临时|再也|永久|永远|终身|一辈子|长期|治不好|不会好|没希望",
    re.IGNORECASE,
)
_NOT_PERMANENT = re.compile(r"\b(?:not|isn'?t|won'?t be) permanent\b|不是永久|不会一直", re.IGNORECASE)
_TEMPORARY = re.compile(
    r"\btemporar\w*|\bfor now\b|\bshort[-\s]term\b"
    r"|\bfor (?:a|about|around|another)? ?(?:few|couple(?: of)?|some|\d+|one|two|three|four|five|six) "
    r"(?:days|weeks|months)\b"
    r"|\buntil I (?:find|get|start|recover|am better|go back)\b"
    r"|\bexpect(?:ing)? (?:a |to start (?:a )?|to get (?:a )?)?new (?:work|job)\b"
    r"|\bnew job (?:starts|next)|\bstart(?:ing)? (?:a )?new job\b|\bback to work\b"
    r"|\b(?:will|should) (?:recover|get better|improve|pick up)\b|(?<!as\s)\bsoon\b|\bonly for\b"
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
    normalised = prepare(text)
    if _NOT_PERMANENT.search(normalised):
        return True
    if _PERMANENT.search(normalised):
        return False
    if _TEMPORARY.search(normalised):
        return True
    return None
