"""What the analytics page says, in the supervisor's language (English or Simplified Chinese).

English lives beside the numbers (`kpis.Table.title`, `kpis.Column.label`); Chinese lives here, keyed by
table key and column key, because a column key means the same figure in every table ("verification_rate"
is always verified / conversations). Codes that are data (a handoff reason, a policy rule, an authority)
stay as they are, as in the CSV and in docs/analytics.md; the language and channel of a conversation, and
the "current" bucket, are shown in words.

A key missing here shows its English text: `tests/analytics/test_labels.py` checks that every table and
column the report builds has its Chinese.
"""
from __future__ import annotations

from bot.analytics.kpis import Column, Table

LANGUAGES = ("en", "zh")

TABLE_TITLES_ZH = {
    "conversations": "开始的对话",
    "verification": "身份验证率（本人联系）",
    "containment": "机器人自助解决率与7天内再次联系率",
    "promise_to_pay": "承诺还款率",
    "agreements": "还款协议率",
    "by_language": "按语言的对话指标",
    "by_channel": "按渠道的对话指标",
    "handoffs": "按原因的转人工率",
    "kept_promises": "履约率",
    "kept_promises_by_language": "按语言的履约率",
    "kept_promises_by_channel": "按渠道的履约率",
    "agent_times": "首次人工回复时间与处理时长（秒）",
    "agent_times_by_language": "按语言的人工处理时间",
    "agent_times_by_channel": "按渠道的人工处理时间",
    "concessions": "已批准的减免（已签协议），按权限、规则和政策版本",
    "contact_policy": "退订与联系规则拒绝",
    "refusals_by_rule": "按渠道和规则的联系拒绝",
    "opt_outs_by_channel": "按渠道的退订",
    "cure": "治愈率（期初逾期、期末正常）",
    "roll_forward": "恶化迁移率（转入更差逾期区间的贷款）",
    "roll": "逾期区间之间的迁移率",
}

COLUMN_LABELS_ZH = {
    "period": "周期",
    "language": "语言",
    "channel": "渠道",
    "conversations": "对话数",
    "verified": "已验证",
    "verification_rate": "身份验证率",
    "contained": "无需人工",
    "containment_rate": "自助解决率",
    "returned": "7天内再次联系",
    "repeat_rate": "再次联系率",
    "contained_repeat_rate": "自助解决后的再次联系率",
    "promised": "有还款承诺",
    "promise_rate": "承诺还款率",
    "agreed": "已签协议",
    "agreement_rate": "还款协议率",
    "reason": "原因",
    "handed_off": "转人工",
    "handoff_rate": "转人工率",
    "settled": "已到期的承诺",
    "kept": "已履约",
    "partly_kept": "部分履约",
    "broken": "未履约",
    "kept_rate": "履约率",
    "escalations": "转人工会话",
    "replied": "已回复",
    "mean_first_reply_seconds": "平均首次回复时间（秒）",
    "handled": "认领后关闭",
    "mean_handle_seconds": "平均处理时长（秒）",
    "authority": "权限",
    "rule": "规则",
    "policy_version": "政策版本",
    "agreements": "协议数",
    "waived_fees": "减免费用",
    "waived_interest": "减免利息",
    "opt_outs": "退订",
    "attempts": "跟进尝试",
    "refused": "被规则拒绝",
    "refusal_rate": "拒绝率",
    "delinquent": "期初逾期",
    "cured": "期末正常",
    "cure_rate": "治愈率",
    "from_bucket": "从",
    "to_bucket": "到",
    "loans": "贷款数",
    "roll_rate": "占“从”区间的比例",
    "rolled_forward": "转入更差区间",
    "roll_forward_rate": "恶化迁移率",
}

# The conversation's language and channel, and the "current" days-past-due bucket, in words.
CURRENT_ZH = {"zh": {"current": "正常"}}
VALUE_WORDS = {
    "from_bucket": CURRENT_ZH,
    "to_bucket": CURRENT_ZH,
    "language": {"en": {"en": "English", "zh": "Chinese"}, "zh": {"en": "英文", "zh": "中文"}},
    "channel": {"en": {"socketio": "Web chat", "telegram": "Telegram", "rest": "REST (development)"},
                "zh": {"socketio": "网页聊天", "telegram": "Telegram", "rest": "REST（开发）"}},
}

PAGE_TEXT = {
    "en": {
        "page_title": "Analytics", "from": "From", "to": "To", "by": "By", "day": "day", "week": "week",
        "show": "Show", "last_7": "Last 7 days", "last_28": "Last 28 days", "last_91": "Last 13 weeks",
        "note": "All days are UTC. Definitions of every figure: docs/analytics.md.",
        "empty": "Nothing in this range.", "csv": "Download CSV",
        "chart_alt": "Chart: {title} (the same numbers are in the table)",
    },
    "zh": {
        "page_title": "数据分析", "from": "从", "to": "到", "by": "按", "day": "天", "week": "周",
        "show": "显示", "last_7": "最近7天", "last_28": "最近28天", "last_91": "最近13周",
        "note": "所有日期均为UTC。每个指标的定义：docs/analytics.md。",
        "empty": "此范围内没有数据。", "csv": "下载CSV",
        "chart_alt": "图表：{title}（表格中是相同的数字）",
    },
}


def language_of(requested: str | None, fallback: str | None) -> str:
    """The page's language: the one asked for in the address, else the agent's own, else English."""
    for candidate in (requested, fallback):
        if candidate in LANGUAGES:
            return candidate
    return "en"


def table_title(table: Table, language: str) -> str:
    return TABLE_TITLES_ZH.get(table.key, table.title) if language == "zh" else table.title


def column_label(column: Column, language: str) -> str:
    return COLUMN_LABELS_ZH.get(column.key, column.label) if language == "zh" else column.label


def value_in_words(column: Column, value: object, language: str) -> object:
    """A language, channel or bucket code in words; every other value unchanged."""
    words = VALUE_WORDS.get(column.key, {}).get(language, {})
    return words.get(value, value) if isinstance(value, str) else value
