"""What a borrower is told when the assistant cannot reach its database or its action server
(rasa_runtime/outage.py sends it).

Both languages in one answer: without the tracker the conversation's language is not known. Nothing
of the failed turn was saved (not even to memory: rasa_runtime/outage.py), so asking the borrower to send
it again loses and duplicates nothing.
"""
TECHNICAL_TROUBLE_REPLY = (
    "Sorry, we're having a technical problem and couldn't finish handling your message just now. "
    "Everything you told us before is kept. Please send it again in a minute.\n"
    "抱歉，我们的系统暂时出现技术问题，刚才未能处理完您的消息。您之前告诉我们的内容都已保存。请一分钟后再发送一次。"
)
