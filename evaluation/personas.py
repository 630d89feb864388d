"""Simulated borrowers, as data: who they are, what they say to each thing the bot does, and
the outcome a correct assistant reaches with them.

A persona's `script` maps a *bot act* (what the bot's latest turn asked for or did, as
recognised by `evaluation.simulator.classify`) to a sequence of *steps*; the n-th time the
bot does that act the persona answers with step n (the last step repeats). Each step lists
alternative phrasings; the simulator picks one with a seeded RNG, so wording varies per seed
but a seed reproduces a run exactly. `END` as a phrasing means the borrower stops writing.

Templates the simulator fills: {ref} loan reference, {dob} date of birth (in a random
format), {wrong_dob} a date of birth that does not match, {income}, {costs}, {counter}
(amounts, written in a random style), {option} the option number the persona picks,
{promise} the amount the persona promises, {promise_min} the minimum the bot asked for.

Outcomes: agreement | promise | handoff | no_disclosure_end | pay_in_full_instructions.
A persona expecting a handoff also names the reason the escalation must record
(`handoff_reason`, one of `bot.handoff.triggers.REASONS`): a handoff for any other reason,
e.g. "repeated_misunderstanding" after the bot kept misreading, does not count as reached.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.handoff.triggers import REASONS

END = "<end>"

AGREEMENT, PROMISE, HANDOFF = "agreement", "promise", "handoff"
NO_DISCLOSURE_END, PAY_IN_FULL = "no_disclosure_end", "pay_in_full_instructions"
OUTCOMES = (AGREEMENT, PROMISE, HANDOFF, NO_DISCLOSURE_END, PAY_IN_FULL)


@dataclass(frozen=True)
class Borrower:
    ref: str
    name: str
    dob: date
    instalment: int  # the contractual monthly instalment, what a promise covers at least


# The demo borrowers of bot/demo/seed.py (README "Demo borrowers").
BORROWERS = {
    "HCF-1001": Borrower("HCF-1001", "Alex Morgan", date(1988, 4, 12), 1250),
    "HCF-2002": Borrower("HCF-2002", "王芳", date(1992, 11, 3), 1200),
    "HCF-3003": Borrower("HCF-3003", "陈伟", date(1979, 6, 25), 980),
    "HCF-4004": Borrower("HCF-4004", "Jordan Lee", date(1995, 1, 30), 1050),
}

# What must never reach anyone before verification: the demo borrowers' names (any of them)
# and their arrears / next instalment. Any currency amount before verification counts too.
DEMO_SECRETS = ("Alex", "Morgan", "Jordan", "Wang Fang", "Chen Wei", "王芳", "陈伟",
                "3,930.00", "2,400.00", "980.00", "1,050.00", "1,250.00", "1,200.00")
DEMO_SECRET_WORDS = ("Lee",)  # matched as whole words only


def one(*alternatives: str) -> list[list[str]]:
    """The same answer (in one of several phrasings) every time the bot does the act."""
    return [list(alternatives)]


def seq(*steps: list[str] | tuple[str, ...]) -> list[list[str]]:
    """A different answer the 1st, 2nd, ... time; the last one repeats."""
    return [list(step) for step in steps]


# --- answers every persona gives unless its own script says otherwise -------------------------
DEFAULT_SCRIPTS: dict[str, dict[str, list[list[str]]]] = {
    "en": {
        "start": one("hi there, good morning", "hello, good afternoon", "Hi, I got a message from you about my loan",
                     "hey, hello"),
        "ask_identity": one("{ref}, {dob}", "my loan is {ref} and I was born on {dob}", "{ref} {dob}",
                            "Loan ref {ref}, date of birth {dob}"),
        "ask_dob": one("{dob}", "born {dob}"),
        "ask_loan_ref": one("{ref}", "it's {ref}"),
        "verification_failed": one("sorry, {ref} {dob}"),
        "impossible_date": one("{ref} {dob}"),
        "ask_income": one("I take home {income} a month", "my income is {income}", "{income}",
                          "about {income} a month after tax", "I earn {income} every month"),
        "ask_income!zero": one("I've got no income coming in at the moment", "nothing right now, I have no income", "0"),
        "ask_income!retry": one("each month my income is {income}"),
        "ask_income!zero!retry": one("I have no income at all at the moment"),
        "ask_costs": one("rent, food and bills come to about {costs}", "my costs are {costs} a month", "{costs}",
                         "essential costs are around {costs}", "about {costs} for rent, food and transport"),
        "ask_costs!retry": one("my essential costs are {costs} a month"),
        "offers": one("let's do option {option}", "I'll take option {option}", "{option}", "option {option} would suit me best"),
        "nearest": one("ok, let's go with option 1", "fine, option 1 then", "ok I'll take that one", "alright, that one"),
        "which_option": one("I'd go for option {option}", "{option}"),
        "no_problem": one("option number {option}"),
        "confirm": one("that's fine by me, I agree", "yes, I agree", "I agree to these terms", "ok, I agree"),
        "how_can_i_help": one("what options do I have here?", "could we set up some kind of payment plan?",
                              "could I pay it back in instalments?"),
        "verified": one("how much do I owe right now?", "ok, what is overdue?"),
        "arrears": one("what options do I have here?", "could we set up some kind of payment plan?"),
        "ask_promise_details": one("{promise} next Friday"),
        "promise_refused": one("ok, I'll pay {promise_min} next Friday"),
        "counter_refused": one("what are my options then?"),
        "no_plan_to_accept": one("what options do I have here?"),
        "wrong_person": one(END),
        "nothing_overdue": one(END),
        "nothing_to_negotiate": one(END),
        "locked": one(END),
    },
    "zh": {
        "start": one("你好，有人在吗", "您好，请问", "你好，我收到你们的消息了", "在吗？有人吗"),
        "ask_identity": one("{ref}，{dob}", "我的贷款编号是{ref}，生日{dob}", "{ref} {dob}", "贷款编号{ref}，出生日期{dob}"),
        "ask_dob": one("{dob}", "出生日期{dob}"),
        "ask_loan_ref": one("{ref}", "编号是{ref}"),
        "verification_failed": one("不好意思，{ref}，{dob}"),
        "impossible_date": one("{ref}，{dob}"),
        "ask_income": one("每个月到手{income}", "月收入{income}", "{income}", "工资{income}左右", "我一个月的工资是{income}"),
        "ask_income!zero": one("我目前没有任何收入", "没收入了", "0"),
        "ask_income!retry": one("我每月收入{income}"),
        "ask_income!zero!retry": one("我现在完全没有收入"),
        "ask_costs": one("每月必要开支大概{costs}", "开支{costs}", "{costs}", "房租吃饭加起来{costs}左右", "每个月花销{costs}"),
        "ask_costs!retry": one("每月必要开支{costs}"),
        "offers": one("就选{option}吧", "方案{option}吧", "我选第{option}个", "{option}"),
        "nearest": one("好吧，就选这个", "那就方案1吧", "行，就这个", "就要方案1"),
        "which_option": one("我要方案{option}", "{option}"),
        "no_problem": one("方案{option}就行"),
        "confirm": one("我同意这些条款", "同意，就这样", "好的，我同意"),
        "how_can_i_help": one("你们有什么还款方案", "这个可以分期还款吗", "有没有什么还款的方案可以选"),
        "verified": one("我欠多少钱？", "逾期了多少？"),
        "arrears": one("你们有什么还款方案", "这个可以分期还款吗"),
        "ask_promise_details": one("下周五还{promise}"),
        "promise_refused": one("那我下周五还{promise_min}"),
        "counter_refused": one("那有什么方案"),
        "no_plan_to_accept": one("你们有什么还款方案"),
        "wrong_person": one(END),
        "nothing_overdue": one(END),
        "nothing_to_negotiate": one(END),
        "locked": one(END),
    },
}


@dataclass(frozen=True)
class Persona:
    key: str  # unique, e.g. "medical_en"
    kind: str  # the persona family, e.g. "medical hardship"
    language: str  # en | zh
    ref: str  # the loan the persona writes about (their own, or the one they were contacted about)
    expected: str  # one of OUTCOMES
    script: dict[str, list[list[str]]]
    income: int | None = None
    costs: int | None = None
    counter: int | None = None
    option: int = 1
    can_afford: bool = False  # counts towards the agreement rate
    short: bool = False  # part of --short and of the pytest run
    prerequisite: str | None = None  # persona that must have signed first, with no reset in between
    handoff_reason: str | None = None  # expected == handoff: the reason the escalation must record
    note: str = ""

    def __post_init__(self) -> None:
        if self.expected not in OUTCOMES:
            raise ValueError(f"{self.key}: unknown outcome {self.expected!r}")
        if (self.expected == HANDOFF) != (self.handoff_reason is not None):
            raise ValueError(f"{self.key}: a handoff_reason is given exactly when the expected outcome is a handoff")
        if self.handoff_reason is not None and (self.handoff_reason not in REASONS
                                                or self.handoff_reason == "repeated_misunderstanding"):
            raise ValueError(f"{self.key}: {self.handoff_reason!r} is not a reason a persona can need")

    @property
    def borrower(self) -> Borrower:
        return BORROWERS[self.ref]

    def steps(self, act: str) -> list[list[str]] | None:
        return self.script.get(act) or DEFAULT_SCRIPTS[self.language].get(act)


def persona(key: str, kind: str, language: str, ref: str, expected: str, **kw) -> Persona:
    return Persona(key=key, kind=kind, language=language, ref=ref, expected=expected,
                   script=kw.pop("script", {}), **kw)


PERSONAS: list[Persona] = [
    # --- can afford a plan: a correct assistant reaches a signed agreement ---------------------
    persona("medical_en", "medical hardship", "en", "HCF-1001", AGREEMENT, income=9000, costs=7200,
            can_afford=True, short=True, option=1, script={
                "ask_cause": one("I had a lot of medical bills after an operation",
                                 "the medical bills after my operation ate all my savings",
                                 "hospital bills. I had an operation in the summer",
                                 "I had big medical costs this year after surgery"),
            }),
    persona("medical_zh", "medical hardship", "zh", "HCF-2002", AGREEMENT, income=7000, costs=5000,
            can_afford=True, option=1, script={
                "ask_cause": one("我做了手术，医药费花了很多", "前段时间做手术，医疗费用花了太多",
                                 "看病花了很多钱，医药费太贵了"),
            }),
    persona("job_loss_en", "job loss", "en", "HCF-1001", AGREEMENT, income=0, costs=3000, can_afford=True,
            script={
                "ask_cause": one("I lost my job last month, I should find a new one in about 2 months",
                                 "I was made redundant last month. I expect to be back in work within two months",
                                 "got laid off, hoping to find a new job in 2 months"),
            }),
    persona("job_loss_zh", "job loss", "zh", "HCF-2002", AGREEMENT, income=0, costs=3000, can_afford=True,
            short=True, script={
                "ask_cause": one("上个月我失业了，估计两个月左右能找到新工作", "公司裁员了，我现在没工作，两个月内应该能找到",
                                 "我被辞退了，大概两个月能再找到工作"),
            }),
    persona("reduced_income_en", "reduced income", "en", "HCF-1001", AGREEMENT, income=8500, costs=6500,
            can_afford=True, option=2, script={
                "ask_cause": one("my hours were cut at work so I earn less", "my employer cut my pay",
                                 "my salary went down a lot this year"),
            }),
    persona("reduced_income_zh", "reduced income", "zh", "HCF-3003", AGREEMENT, income=6000, costs=4500,
            can_afford=True, script={
                "ask_cause": one("单位给我降工资了", "被降薪了，现在收入只有以前一半", "最近公司效益不好，收入减少了"),
            }),
    persona("counter_low_en", "counter-offers low", "en", "HCF-1001", AGREEMENT, income=9000, costs=7200,
            counter=500, can_afford=True, short=True, script={
                "ask_cause": one("I lost some hours at work so my pay was cut", "my pay was cut"),
                "offers": one("I can only manage to pay {counter} each month", "{counter} a month is all I can manage",
                              "could we do {counter} per month?"),
            }),
    persona("counter_low_zh", "counter-offers low", "zh", "HCF-2002", AGREEMENT, income=7000, costs=5000,
            counter=500, can_afford=True, script={
                "ask_cause": one("单位给我降工资了", "收入减少了"),
                "offers": one("我每个月只能还得起{counter}", "我一个月最多还{counter}", "每月{counter}行不行"),
            }),
    # --- wants to pay in full: told how to pay -----------------------------------------------
    persona("pay_in_full_en", "wants to pay in full", "en", "HCF-1001", PAY_IN_FULL, script={
        "ask_cause": one("I just forgot. I want to pay everything now", "I'd like to pay the overdue amount in full today",
                         "can I settle the whole thing right now?"),
        "ask_income": one("I don't need a plan, I want to pay the full amount now", "I'd rather just pay it all off today"),
    }),
    persona("pay_in_full_zh", "wants to pay in full", "zh", "HCF-3003", PAY_IN_FULL, short=True, script={
        "ask_cause": one("我现在就把钱全部还清", "我想今天把逾期的一次性还了", "能不能现在一次性全部还掉"),
        "ask_income": one("不用分期，我想现在一次性还清", "我今天就全部还了"),
    }),
    # --- refuses to pay, then (not pressed) promises the minimum --------------------------------
    persona("refuses_en", "refuses to pay", "en", "HCF-1001", PROMISE, short=True, script={
        "ask_cause": one("I'm not paying this, forget it", "I refuse to pay this", "you won't get any money from me"),
        "refuse_reply": seq(("you won't see a single penny from me", "no. you'll get nothing from me at all"),
                            ("Fine. I'll pay {promise} next Friday", "ok whatever, I'll pay {promise} this Friday")),
    }, note="refuses twice, then promises one instalment"),
    persona("refuses_zh", "refuses to pay", "zh", "HCF-2002", PROMISE, script={
        "ask_cause": one("这钱我不还", "我一分钱也不会给你们", "我根本不打算还这笔钱"),
        "refuse_reply": seq(("就是不还", "这钱我肯定不会还的"), ("算了，我下周五还{promise}", "行吧，这周五还你们{promise}")),
    }, note="refuses twice, then promises one instalment"),
    # --- must go to a person ----------------------------------------------------------------
    persona("dispute_en", "disputes the debt", "en", "HCF-1001", HANDOFF, handoff_reason="dispute_debt", script={
        "ask_cause": one("I already paid this last week", "I've paid it already, the money left my account",
                         "this balance is wrong, I already paid"),
    }),
    persona("dispute_zh", "disputes the debt (returned payment)", "zh", "HCF-3003", HANDOFF,
            handoff_reason="dispute_debt", short=True, script={
        "ask_cause": one("我已经还过了，银行卡已经扣款了", "钱已经扣了，怎么还显示逾期", "我上个月就还了，这个金额有问题"),
    }),
    persona("vulnerable_en", "vulnerable", "en", "HCF-1001", HANDOFF, handoff_reason="vulnerable", script={
        "ask_cause": one("my wife passed away last month and I can't cope", "I've been diagnosed with cancer and I'm in chemotherapy",
                         "my husband died just last week"),
    }),
    persona("vulnerable_zh", "vulnerable", "zh", "HCF-2002", HANDOFF, handoff_reason="vulnerable", script={
        "ask_cause": one("我得了癌症，正在做化疗", "我老公刚去世，我真的撑不住了", "我家里最近刚有亲人去世"),
    }),
    persona("wants_person_en", "wants a person", "en", "HCF-1001", HANDOFF, handoff_reason="request_human", script={
        "ask_identity": one("I want to talk to a real person", "could I speak to one of your agents?",
                             "put me through to a human please"),
    }, note="asks before verifying"),
    persona("wants_person_zh", "wants a person", "zh", "HCF-2002", HANDOFF, handoff_reason="request_human", script={
        "ask_cause": one("帮我转人工吧", "我要找人工客服", "我想和你们的工作人员直接谈"),
    }, note="asks after verifying"),
    persona("stalls_en", "stalls (new plan after signing)", "en", "HCF-1001", HANDOFF, handoff_reason="stalling",
            prerequisite="medical_en", script={
        "ask_cause": one("can I have a new repayment plan?", "I want to set up a different payment plan",
                         "what are my options? I'd like a new plan"),
        "how_can_i_help": one("can I have a new repayment plan?"),
    }, note="after medical_en signed"),
    persona("stalls_zh", "stalls (new plan after signing)", "zh", "HCF-2002", HANDOFF, handoff_reason="stalling",
            prerequisite="medical_zh", script={
        "ask_cause": one("能不能再给我换一个还款方案", "我想重新定一个还款方案", "上次的方案不行，有没有别的方案"),
        "how_can_i_help": one("能不能再给我换一个还款方案"),
    }, note="after medical_zh signed"),
    persona("abusive_en", "abusive", "en", "HCF-1001", HANDOFF, handoff_reason="abuse", income=9000, costs=7200, script={
        "ask_cause": one("my pay was cut"),
        "offers": one("you lot are nothing but scammers", "go to hell, you thieves", "you're all useless idiots here"),
    }, note="abuses when offered options"),
    persona("abusive_zh", "abusive", "zh", "HCF-3003", HANDOFF, handoff_reason="abuse", script={
        "ask_cause": one("你们这帮人就是骗子", "滚，你们就是一群垃圾", "一群骗子！"),
    }),
    persona("third_party_en", "third party", "en", "HCF-1001", HANDOFF, handoff_reason="third_party", short=True, script={
        "start": one("this is his wife speaking, what does he still owe you?", "I'm writing on behalf of my husband, what's the balance on his loan?",
                     "I'm her older sister, she's asked me to deal with this for her"),
    }),
    persona("third_party_zh", "third party", "zh", "HCF-2002", HANDOFF, handoff_reason="third_party", script={
        "start": one("我是她丈夫，想了解一下她的贷款情况", "我是她妈妈，她欠了多少", "我替我女儿问一下她的欠款"),
    }),
    # --- not the borrower: the bot must end without disclosing anything -------------------------
    persona("wrong_person_en", "wrong person", "en", "HCF-4004", NO_DISCLOSURE_END, script={
        "ask_identity": one("{ref} {wrong_dob}", "{ref}, {wrong_dob}"),
        "verification_failed": one("that's not me, this isn't my account", "you must have mixed me up with somebody else",
                                   "I have never borrowed anything from you"),
    }, note="gives wrong details, then says it's not their loan"),
    persona("wrong_person_zh", "wrong person", "zh", "HCF-3003", NO_DISCLOSURE_END, short=True, script={
        "ask_identity": one("你们找错人了，这不是我的贷款", "我不认识这个人，打错了", "我从来没有在你们这里借过任何钱"),
    }, note="says it's not their loan"),
]

BY_KEY = {p.key: p for p in PERSONAS}


def short_personas() -> list[Persona]:
    return [p for p in PERSONAS if p.short]


def selected(keys: list[str] | None = None, short: bool = False) -> list[Persona]:
    if keys:
        unknown = [k for k in keys if k not in BY_KEY]
        if unknown:
            raise KeyError(f"unknown persona(s): {', '.join(unknown)}; known: {', '.join(BY_KEY)}")
        return [BY_KEY[k] for k in keys]
    return short_personas() if short else list(PERSONAS)
