"""Reading a borrower's message in context: what the bot asked, what the reply holds.

``expectations`` declares, for every question the bot asks, the answer it expects and
the intents that fit that step; ``understanding`` reads a reply against it. No Rasa
imports: the actions feed in the text, the classifier's ranking and the last question.
"""
from bot.dialogue.expectations import ASK_AGAIN, ASKS, PROTECTED_INTENTS, SIDE_INTENTS, Expect, Step, step_after
from bot.dialogue.understanding import Facts, Understanding, read_facts, understand

__all__ = ["ASK_AGAIN", "ASKS", "PROTECTED_INTENTS", "SIDE_INTENTS", "Expect", "Facts", "Step", "Understanding", "read_facts", "step_after",
           "understand"]
