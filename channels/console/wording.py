"""Sentences the console's server writes, in the agent's language: the account panel's plan, promise,
payment and outreach sentences and labels, and the error messages of the console's APIs.

The console's own interface strings live in static/i18n.js; what the server composes (it knows the
figures, the dates and why a step was refused) is worded here, for the language the agent chose
(their account's `language`). As in gettext, a message is named by its English template: code reads
in English, and a sentence without a Chinese version falls back to English instead of failing.
The integration API (channels/console/integration_api.py) speaks English to machines, unchanged.
"""
from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from bot.handoff.queue import Refusal

ZH: dict[str, str] = {
    # -- the account panel: plans, promises, payments (channels/console/books.py)
    "Open": "未结",
    "Kept": "已兑现",
    "Partly kept": "部分兑现",
    "Broken": "已违约",
    "Pending first payment": "待首期付款",
    "On track": "正常履约",
    "In arrears": "逾期",
    "Lapsed": "已失效",
    "Completed": "已完成",
    "Replaced by a later plan": "已被新计划取代",
    "Awaiting first reconciliation": "待首次对账",
    "Succeeded": "成功",
    "Failed": "失败",
    "Returned": "退回",
    "Active": "进行中",
    "Paused": "已暂停",
    "Breathing space": "喘息期",
    "Promise": "还款承诺",
    "Plan": "还款计划",
    "Payment": "付款",
    "Loan": "贷款",
    "Outreach": "主动联系",
    "payment": "付款",
    "rule": "规则",
    "payment feed": "付款数据",
    "operator": "操作员",
    "fees": "费用",
    "late fees": "滞纳金",
    "penalty interest": "罚息",
    "interest": "利息",
    "principal": "本金",
    "unapplied credit": "未分配款项",
    "awaiting its first payment": "待首期付款",
    "on track": "正常履约",
    "in arrears": "逾期",
    "broken": "已违约",
    "lapsed": "已失效",
    "completed": "已完成",
    "replaced by a later plan": "已被新计划取代",
    "pay now": "立即还款",
    "promise to pay": "承诺还款",
    "spread arrears": "分摊逾期金额",
    "fee waiver": "减免费用",
    "grace period": "宽限期",
    "term extension": "延长期限",
    "interest waiver": "减免利息",
    "settlement discount": "结清折扣",
    "write down": "减记",
    "Plan {reference} awaiting first reconciliation (agreed {day})":
        "还款计划 {reference} 待首次对账（{day} 达成）",
    "Plan {reference} {phrase}: paid {paid} of {due} due": "还款计划 {reference} {phrase}：应还 {due}，已还 {paid}",
    "Promised {amount} by {day}": "承诺于 {day} 前还款 {amount}",
    ", {paid} paid so far": "，目前已还 {paid}",
    ": the date has passed, not yet reconciled": "：日期已过，尚未对账",
    " (+{more} more open)": "（另有 {more} 笔未结）",
    "{monthly} × {months} months": "{monthly} × {months} 个月",
    "No. {number}: {amount} on {day}": "第 {number} 期：{day} 还款 {amount}",
    "Promise of {amount} due {day}": "{day} 到期的 {amount} 还款承诺",
    "Not verified: the borrower has not proved who they are, so no loan is linked to this conversation.":
        "未验证：借款人尚未证明身份，这段对话没有关联任何贷款。",
    "No loan {loan_ref} in the books.": "账簿中没有贷款 {loan_ref}。",
    # -- the account panel: outreach (channels/console/outreach.py)
    "Reminder: promise due": "提醒：承诺还款到期",
    "Reminder: instalment due": "提醒：分期还款到期",
    "Follow-up: missed promise": "跟进：未兑现的承诺",
    "Follow-up: missed instalment": "跟进：错过的分期",
    "Re-engagement: unfinished talk": "再次联系：未完成的对话",
    "Check-in: early-warning risk": "关怀：早期预警风险",
    "Web chat": "网页聊天",
    "the borrower opted out of this channel": "借款人已退订此渠道",
    "not the verified borrower's own chat": "不是已验证借款人本人的聊天",
    "the borrower may be vulnerable: a person decides": "借款人可能处于弱势：由人工决定",
    "a dispute or complaint is open": "有未结的争议或投诉",
    "the conversation was with a person (handoff open)": "对话已转人工（转接未结）",
    "outreach paused by an agent": "客服已暂停主动联系",
    "breathing space": "喘息期",
    "daily contact limit reached": "已达每日联系上限",
    "7-day contact limit reached": "已达 7 天联系上限",
    "time zone unknown and no hour is allowed in every zone served": "时区未知，且没有对所有服务时区都允许的时段",
    "quiet hours ({region} rules)": "免打扰时段（{region} 规定）",
    "Sent": "已发送",
    "Refused, moved later": "被拒绝，已改期",
    "Refused, dropped": "被拒绝，已取消",
    "Dropped, no longer due": "已取消，不再到期",
    "Send failed, will retry": "发送失败，将重试",
    "Send failed, gave up": "发送失败，已放弃",
    "Breathing space until {day}": "喘息期至 {day}",
    "Breathing space until lifted": "喘息期，直至解除",
    "Outreach paused by {agent} until lifted": "{agent} 已暂停主动联系，直至解除",
    "Outreach active": "主动联系进行中",
    "Since {moment}": "自 {moment} 起",
    "Also paused by {agent}": "{agent} 也已暂停",
    "While this escalation is open, the contact rules refuse every proactive message.":
        "此转接未结期间，联系规则会拒绝所有主动消息。",
    "the promise or plan changed before it was due": "到期前承诺或计划已变更",
    # -- errors of the console's APIs (routes.py, desk_api.py, typing.py) and the queue's refusals
    "sign in first": "请先登录",
    "missing or wrong CSRF token": "缺少或错误的 CSRF 令牌",
    "no such escalation": "没有这个转接",
    "this conversation is handled by {agent}": "这段对话由 {agent} 处理",
    "the borrower has not verified: no loan is linked to this conversation": "借款人尚未验证：这段对话没有关联贷款",
    "no loan {loan_ref} in the books": "账簿中没有贷款 {loan_ref}",
    "{key} is a whole number from {low} to {high}": "{key} 须为 {low} 到 {high} 之间的整数",
    "language is en or zh": "语言须为 en 或 zh",
    "{key} is empty": "{key} 不能为空",
    "the sign-in form expired; reload it": "登录表单已过期，请重新加载",
    "view is one of waiting, mine, all": "视图须为 waiting、mine 或 all",
    "only supervisors see every conversation": "只有主管可以查看所有对话",
    "only a supervisor records a breathing space": "只有主管可以登记喘息期",
    "someone else claimed it first": "已被其他人先认领",
    "message not delivered: {error}": "消息未送达：{error}",
    "decision is approve or reject": "决定须为 approve 或 reject",
    "Rasa did not take the conversation back, it is still yours: {error}": "机器人未能接回对话，对话仍由您处理：{error}",
    "outcome is one of {outcomes}": "结果须为以下之一：{outcomes}",
    "closed, but the bot is still paused: {error}": "已关闭，但机器人仍处于暂停状态：{error}",
    "only a supervisor can {what}": "只有主管可以{what}",
    "manage canned replies": "管理快捷回复",
    "manage API keys": "管理 API 密钥",
    "to is the username of the agent who takes it over": "to 须为接手客服的用户名",
    "no active agent named {name}": "没有名为 {name} 的在岗客服",
    "not reopened: Rasa could not pause the bot: {error}": "未能重新打开：机器人无法暂停：{error}",
    "no such canned reply": "没有这条快捷回复",
    "no live key with this id": "没有这个编号的有效密钥",
    "typing is true or false": "typing 须为 true 或 false",
    "only the agent holding this conversation shows typing to the borrower": "只有处理这段对话的客服才能向借款人显示输入状态",
    "only its holder or a supervisor can release a claimed conversation, and it is not claimed by you now":
        "只有处理人或主管可以释放已认领的对话，而这段对话现在不由您认领",
    "this conversation is closed; reopen it first": "这段对话已关闭，请先重新打开",
    "only its holder or a supervisor can transfer a conversation": "只有处理人或主管可以转交对话",
    "{agent} holds this conversation already": "{agent} 已在处理这段对话",
    "someone else moved this conversation first; reload it": "其他人已先移动了这段对话，请重新加载",
    "this conversation is not closed": "这段对话未关闭",
    "only a supervisor or the agent who closed it can reopen a conversation": "只有主管或关闭对话的客服可以重新打开",
    "this borrower already has an open escalation": "这位借款人已有未结的转接",
    "someone else reopened this conversation first": "其他人已先重新打开了这段对话",
    "claim the conversation first": "请先认领这段对话",
    "claimed by {agent}": "已由 {agent} 认领",
    "there is no proposed offer to approve": "没有待批准的方案",
    "an offer needing {authority} authority can't be approved by an {role}":
        "需要 {authority} 权限的方案不能由 {role} 批准",
    "this conversation was closed or handed back already": "这段对话已关闭或已交回机器人",
}
CATALOGUES = {"zh": ZH}


def words(lang: str, template: str, **params: Any) -> str:
    """`template` (English, with `{name}` parameters) in `lang`, parameters filled; English when no version."""
    return CATALOGUES.get(lang, {}).get(template, template).format(**params)


def refused(status: int, lang: str, template: str, **params: Any) -> HTTPException:
    """An HTTP error whose message is worded for the agent."""
    return HTTPException(status, words(lang, template, **params))


def refusal(status: int, lang: str, exc: Refusal) -> HTTPException:
    """The queue's refusal (bot.handoff.queue.Refusal) as an HTTP error worded for the agent."""
    return HTTPException(status, words(lang, exc.template, **exc.params))
