"""The Telegram channel: borrowers reach the assistant through a Telegram bot.

``input.TelegramInput`` is the Rasa input channel (webhook route), ``sender``
talks to the Bot API, ``dedup`` drops redelivered updates, and ``polling`` /
``webhook`` are command-line tools for development and set-up. Importing this
package touches neither Rasa nor the network.
"""
