"""Money amounts and durations in English and Chinese borrower text.

``parse_amounts`` finds every money amount, in the order written:
"6000", "6,000", "6k", "1.5k", "¥3,500", "RMB 980", "980元", "CNY 3,930.00",
"1.5万", "六千", "五千五百元", "两千五" (2500), "三万二" (32000), "五百块",
"five hundred yuan". Before it looks, it blanks out numbers that are not
money: loan references, dates ("2026-12-15", "15/12", "12月15日", "15号",
"the 15th", "15 December"), times, percentages, durations and counts
("2 months", "两个月", "6个月", "3 weeks"), option numbers ("option 2",
"方案2", "第2"), years after "in/since" and digit runs of 10 or more
(phone and account numbers).

Rules worth knowing:
- A comma followed by exactly three digits is a thousands separator;
  a dot is a decimal point ("1.234,56" is not understood).
- A run of Chinese numerals counts as money only when it is followed by a
  currency word (元/块/块钱), preceded by a currency marker, or holds a
  magnitude (百/千/万/亿) and starts with a digit character. That keeps
  words like "一下", "千万", "万一", "十分" out.
- English number words count only with a magnitude ("six thousand") or a
  currency word ("five hundred yuan", "eighty kuai").
- Every amount is quantised to 0.01 (half up).

``parse_amount`` returns the first amount. Only when there is no numeric
amount at all does it read a *zero statement* as Decimal("0.00"): the whole
message is a zero answer ("zero", "nothing", "none", "0", "零", "没有",
"I have nothing"), or it states that income is nil ("no income",
"zero income", "income is zero", "I earn nothing", "没有收入", "没收入",
"零收入", "收入为零", "一分钱都没有"). "zero interest" or "nothing else to
say" are not zero statements.
"""
from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

import cn2an

from bot.language.references import prepare_without_refs
from bot.language.text import collapse_whitespace, prepare

CENT = Decimal("0.01")

# --- Chinese numerals -------------------------------------------------------

CN_DIGITS = "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖"
CN_UNITS = "十百千万亿拾佰仟萬億"
CN_NUMERAL = f"[{CN_DIGITS}{CN_UNITS}]"
_CN_MAGNITUDES = set("百千万亿佰仟萬億")
# A run of numerals (or digits) that is only matched from its first character: patterns that
# start with a run and then fail would otherwise retry from every character inside it,
# quadratic in the run's length.
_CN_RUN = rf"(?<!{CN_NUMERAL}){CN_NUMERAL}+"
_DIGIT_RUN = r"(?<!\d)\d+(?:\.\d+)?"

# --- English number words ---------------------------------------------------

_EN_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_EN_SCALES = {"hundred": 100, "thousand": 1000, "grand": 1000, "million": 1_000_000}
_EN_NUMBER_WORD = "|".join(sorted([*_EN_SMALL, *_EN_SCALES], key=len, reverse=True))
_EN_SMALL_WORD = "|".join(sorted(_EN_SMALL, key=len, reverse=True))

# --- what is *not* money (masked before searching) ---------------------------

_MONTH_NAMES = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|"
    r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_NUM = (
    rf"(?:(?<![\d.,])\d{{1,3}}(?:\.\d+)?|{_CN_RUN}|几|半|"
    r"\b(?:an?|a few|a couple of|couple of|several|few)\b)"
)
_NUM_TO = rf"\d+(?:\.\d+)?|{CN_NUMERAL}+"
_NOT_MONEY = [
    # ISO-like and day-first dates, with or without a year
    r"(?<!\d)\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)",
    r"(?<!\d)\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)",
    r"(?<![\d.,])\d{1,2}/\d{1,2}(?![\d/])",
    # Chinese dates: 2026年12月15日, 12月15号, 15号, 十五日, 2026年
    rf"(?<![\d{CN_DIGITS}十])(?:[\d{CN_DIGITS}十]+ ?年 ?)?[\d{CN_DIGITS}十]+ ?月 ?[\d{CN_DIGITS}十]+ ?[日号號]",
    rf"(?<![\d{CN_DIGITS}十])[\d{CN_DIGITS}十]+ ?(?:年|月份?|[日号號]|点钟?|点半|时|岁|歲|%|％)",
    # English dates: 15 December (2026), December 15th(, 2026), the 15th
    rf"(?<![\d.])\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH_NAMES}\b\.?(?:,? ?\d{{4}})?",
    rf"\b{_MONTH_NAMES}\b\.? ?\d{{1,2}}(?:st|nd|rd|th)?(?!\d)(?:,? ?\d{{4}})?",
    r"(?<![\d.])\d{1,2}(?:st|nd|rd|th)\b",
    # times and percentages
    r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?",
    r"(?<![\d.])\d{1,2} ?(?:am|pm|a\.m\.|p\.m\.|o'?clock)\b",
    r"(?<!\d)\d+(?:\.\d+)? ?(?:%|％|percent\b|pct\b|per cent\b)",
    r"百分之\S+",
    # durations and counts
    # a range's second number comes after a separator or a space, never straight after the
    # first (the two number runs must not be able to split one run between them)
    rf"{_NUM}(?: ?(?:-|to|or|~|到|至) ?(?:{_NUM_TO})?| (?:{_NUM_TO}))? ?"
    r"(?:months?|mos?|weeks?|wks?|days?|years?|yrs?|hours?|hrs?|minutes?|mins?|"
    r"times|people|persons|kids|children|instal?ments?|payments?)\b",
    rf"(?:{_DIGIT_RUN}|{_CN_RUN}|几|半) ?(?:个|個)? ?半? ?"
    r"(?:个月|個月|月|星期|礼拜|周|週|天|小时|分钟|次|期|人|口|倍|份|条|位|家|遍|分(?!钱)|个|個)",
    # option numbers
    r"(?:\b(?:option|choice|plan|number|item) ?|\bno\. ?|# ?|选项 ?|方案 ?|第 ?|选 ?)"
    rf"(?:\d+|{CN_NUMERAL}+|[a-c]\b)",
    # years after a preposition; long digit runs (phones, accounts)
    r"\b(?:in|since|from|until|till|by|year) (?:19|20)\d{2}\b",
    r"(?<![\d.,])\d{10,}(?![\d.,])",
]
_NOT_MONEY_RE = re.compile("|".join(f"(?:{p})" for p in _NOT_MONEY), re.IGNORECASE)

# --- money --------------------------------------------------------------------

_CURRENCY_BEFORE = r"(?:CN¥|RMB|CNY|¥|\$|人民币|US\$)"
_CURRENCY_AFTER = r"(?:块钱|元钱|块|塊|元|圆|人民币|rmb|cny|yuan|kuai)"
_MULTIPLIER = r"(?:k(?![a-z])| ?(?:thousand|grand|million|mn)\b| ?(?:万|萬|千|百|亿))"

_ARABIC_AMOUNT = re.compile(
    rf"(?:(?P<pre>{_CURRENCY_BEFORE}) ?|(?<![A-Za-z0-9.]))"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?P<mult>{_MULTIPLIER})?"
    # colloquial "3千5" = 3500, "5万2" = 52000
    r"(?P<tail>(?<=[千万萬])\d(?![\d.]))?"
    rf"(?P<post> ?{_CURRENCY_AFTER})?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CHINESE_AMOUNT = re.compile(
    rf"(?P<pre>{_CURRENCY_BEFORE} ?)?(?P<num>{CN_NUMERAL}+)(?P<post> ?{_CURRENCY_AFTER})?",
    re.IGNORECASE,
)
_ENGLISH_AMOUNT = re.compile(
    rf"(?P<pre>{_CURRENCY_BEFORE} ?)?\b(?P<num>(?:{_EN_SMALL_WORD})"
    rf"(?:(?: |-| and )(?:{_EN_NUMBER_WORD}))*)\b(?P<post> ?{_CURRENCY_AFTER}\b)?",
    re.IGNORECASE,
)
_MULTIPLIER_VALUES = {
    "k": 1000, "thousand": 1000, "grand": 1000, "million": 1_000_000, "mn": 1_000_000,
    "百": 100, "千": 1000, "万": 10_000, "萬": 10_000, "亿": 100_000_000,
}

# --- zero statements ------------------------------------------------------------

_ZERO_WHOLE_EN = re.compile(
    r"^(?:(?:i|we) (?:have|earn|make|get|can (?:pay|afford)|could pay) )?"
    r"(?:zero|nothing|none|nil|0|no money|no income)"
    r"(?: (?:income|yuan|rmb|cny|at all|right now|now|currently|"
    r"at the moment|per month|a month|this month))*$"
)
_ZERO_PHRASE_EN = re.compile(
    r"\bno (?:income|salary|earnings|wages?|money coming in)\b"
    r"|\b(?:income|salary|earnings|wages?) (?:is|are|was|of) (?:zero|nothing|nil|none|0)\b"
    r"|\bzero (?:income|salary|earnings|wages?)\b"
    r"|\b(?:earn|earning|make|making|get|getting) (?:nothing|zero)\b"
    r"|\b(?:can'?t|cannot|can not) (?:pay|afford) anything\b"
    r"|\bnothing (?:is )?(?:coming|comes|going) in\b|\bnot (?:earning|making|getting) (?:anything|a (?:penny|cent|thing))\b"
)
_ZERO_WHOLE_ZH = re.compile(
    r"^(?:我|我们)?(?:现在|目前|暂时|每个?月)?(?:收入)?(?:是|为)?"
    r"(?:零|〇|0|没有|没|无|一分钱?都没有|一分钱?也没有)(?:收入|钱)?(?:元|块)?$"
)
_ZERO_PHRASE_ZH = re.compile(
    r"没有收入|没收入|无收入|零收入|收入[^0-9零〇一二两三四五六七八九十百千万]{0,4}?(?:是|为)?(?:零|0)(?![0-9.])"
    r"|一分钱?(?:都|也)(?:没有|没|付不起|拿不出)|没有?(?:任何)?进账|没(?:有)?(?:在)?挣钱"
)
_FILLER = re.compile(r"[\s.,!?。，！？~…'\"“”]+")


def _quantise(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _mask_not_money(text: str) -> str:
    masked = _NOT_MONEY_RE.sub(" ", prepare_without_refs(text))
    return collapse_whitespace(masked)


def _arabic_value(match: re.Match[str]) -> Decimal | None:
    try:
        value = Decimal(match.group("num").replace(",", ""))
    except InvalidOperation:
        return None
    multiplier = (match.group("mult") or "").strip().lower()
    if multiplier:
        value *= _MULTIPLIER_VALUES[multiplier]
        if match.group("tail"):
            value += Decimal(match.group("tail")) * _MULTIPLIER_VALUES[multiplier] / 10
    return value


def chinese_numeral_value(numeral: str) -> int | None:
    """The integer a Chinese numeral stands for ("两千五" -> 2500), or None.

    cn2an's "normal" mode reads the colloquial omitted last unit
    ("两千五" = 2500, "三万二" = 32000, "一千二" = 1200).
    """
    try:
        value = cn2an.cn2an(numeral, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _chinese_value(match: re.Match[str]) -> Decimal | None:
    numeral = match.group("num")
    has_currency = bool(match.group("pre") or match.group("post"))
    has_magnitude = any(ch in _CN_MAGNITUDES for ch in numeral)
    starts_with_digit = numeral[0] in CN_DIGITS or numeral[0] in "十拾"
    if not starts_with_digit:
        return None
    if not (has_currency or has_magnitude):
        return None
    value = chinese_numeral_value(numeral)
    return None if value is None else Decimal(value)


def english_number_value(words: str) -> int | None:
    """The integer an English number phrase stands for ("two thousand five hundred")."""
    total = 0
    current = 0
    seen = False
    for word in re.split(r"[\s\-]+", words.lower()):
        if word == "and" or not word:
            continue
        if word in _EN_SMALL:
            current += _EN_SMALL[word]
            seen = True
        elif word in _EN_SCALES:
            scale = _EN_SCALES[word]
            current = max(current, 1) * scale
            seen = True
            if scale >= 1000:
                total += current
                current = 0
        else:
            return None
    return total + current if seen else None


def _english_value(match: re.Match[str]) -> Decimal | None:
    phrase = match.group("num")
    has_scale = any(w in _EN_SCALES for w in re.split(r"[\s\-]+", phrase.lower()))
    if not (has_scale or match.group("pre") or match.group("post")):
        return None
    value = english_number_value(phrase)
    return None if value is None else Decimal(value)


def parse_amounts(text: str) -> list[Decimal]:
    """Every money amount in ``text``, in the order written, quantised to 0.01."""
    masked = _mask_not_money(text)
    found: list[tuple[int, Decimal]] = []
    for pattern, reader in (
        (_ARABIC_AMOUNT, _arabic_value),
        (_CHINESE_AMOUNT, _chinese_value),
        (_ENGLISH_AMOUNT, _english_value),
    ):
        for match in pattern.finditer(masked):
            value = reader(match)
            if value is not None:
                found.append((match.start(), _quantise(value)))
    found.sort(key=lambda item: item[0])
    return [value for _, value in found]


def is_zero_statement(text: str) -> bool:
    """Whether ``text`` says the amount (income, payment) is nil; see module doc."""
    lowered = prepare(text).strip().lower()
    whole = _FILLER.sub(" ", lowered).strip()
    compact = whole.replace(" ", "")
    return bool(
        _ZERO_WHOLE_EN.match(whole)
        or _ZERO_PHRASE_EN.search(lowered)
        or _ZERO_WHOLE_ZH.match(compact)
        or _ZERO_PHRASE_ZH.search(compact)
    )


def parse_amount(text: str) -> Decimal | None:
    """The first amount in ``text``; Decimal("0.00") for a zero statement; else None."""
    amounts = parse_amounts(text)
    if amounts:
        return amounts[0]
    if is_zero_statement(text):
        return _quantise(Decimal(0))
    return None


# --- durations -----------------------------------------------------------------

_EN_DURATION_WORDS = {
    **{k: Fraction(v) for k, v in _EN_SMALL.items()},
    "a": Fraction(1), "an": Fraction(1), "one": Fraction(1), "couple": Fraction(2),
    "a couple": Fraction(2), "a couple of": Fraction(2), "couple of": Fraction(2),
    "few": Fraction(3), "a few": Fraction(3), "several": Fraction(3),
    "some": Fraction(3), "half a": Fraction(1, 2), "half an": Fraction(1, 2),
}
_DAYS_PER_UNIT = {"day": Fraction(1), "week": Fraction(7), "month": Fraction(30), "year": Fraction(360)}
_EN_QUANTITY = (
    r"\d+(?:\.\d+)?|half an?|a couple(?: of)?|couple of|a few|few|several|some|an?|"
    + _EN_NUMBER_WORD
)
_EN_DURATION = re.compile(
    rf"\b(?P<n>{_EN_QUANTITY})(?: ?(?:-|to|or) ?(?P<n2>{_EN_QUANTITY}))?"
    r" ?(?P<half>and a half )?(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?)\b"
    r"(?P<half2> and a half)?",
    re.IGNORECASE,
)
_EN_HALF_YEAR = re.compile(r"\bhalf (?:a )?year\b", re.IGNORECASE)
_ZH_DURATION = re.compile(
    rf"(?P<n>{_DIGIT_RUN}|{_CN_RUN}|几|半)(?: ?(?:-|~|到|至) ?(?P<n2>\d+|{CN_NUMERAL}+))?"
    r" ?(?P<ge>个|個)? ?(?P<half>半)? ?(?P<unit>月|星期|礼拜|周|週|天|年)(?P<half2>半)?"
)
_ZH_UNITS = {"月": "month", "星期": "week", "礼拜": "week", "周": "week", "週": "week",
             "天": "day", "年": "year"}


def _en_quantity(word: str) -> Fraction | None:
    key = re.sub(r"\s+", " ", word.strip().lower())
    if re.fullmatch(r"\d+(?:\.\d+)?", key):
        return Fraction(key)
    if key in _EN_DURATION_WORDS:
        return _EN_DURATION_WORDS[key]
    return None


def _zh_quantity(word: str) -> Fraction | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return Fraction(word)
    if word == "几":
        return Fraction(3)
    if word == "半":
        return Fraction(1, 2)
    if len(word) == 2 and all(ch in CN_DIGITS for ch in word):
        # "两三" / "三四": a range, read as its upper end
        first, second = chinese_numeral_value(word[0]), chinese_numeral_value(word[1])
        if first is not None and second is not None and second == first + 1:
            return Fraction(second)
    value = chinese_numeral_value(word)
    return None if value is None else Fraction(value)


def _to_months(quantity: Fraction, unit: str) -> int:
    days = quantity * _DAYS_PER_UNIT[unit]
    return max(1, math.ceil(days / 30))


def _unit_name(raw: str) -> str:
    return {"d": "day", "w": "week", "m": "month", "y": "year"}[raw[0].lower()]


def parse_duration_months(text: str) -> int | None:
    """How many whole months a stated duration covers, rounded up; None if none.

    "about two months" -> 2, "half a year" -> 6, "a few weeks" -> 1,
    "两个月" -> 2, "三个月左右" -> 3, "半年" -> 6, "一年半" -> 18. A range
    ("2-3 months", "两三个月") is read as its upper end; "a few"/"几" is 3.
    In Chinese, "N月" without 个 is a calendar month (三月 = March) and is
    not a duration; four-digit years ("2026年") are not durations either.
    """
    normalised = prepare_without_refs(text)
    if _EN_HALF_YEAR.search(normalised):
        return 6
    match = _EN_DURATION.search(normalised)
    if match:
        quantity = _en_quantity(match.group("n2") or match.group("n"))
        if quantity is not None:
            if match.group("half") or match.group("half2"):
                quantity += Fraction(1, 2)
            return _to_months(quantity, _unit_name(match.group("unit")))
    for match in _ZH_DURATION.finditer(normalised):
        unit = _ZH_UNITS[match.group("unit")]
        raw = match.group("n2") or match.group("n")
        if unit == "month" and not match.group("ge") and raw != "半":
            continue  # 三月 is March, not three months
        if unit == "year" and re.fullmatch(r"\d{4}", raw):
            continue
        quantity = _zh_quantity(raw)
        if quantity is None:
            continue
        if match.group("half") or match.group("half2"):
            quantity += Fraction(1, 2)
        return _to_months(quantity, unit)
    return None
