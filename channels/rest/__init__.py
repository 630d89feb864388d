"""Rasa's REST channel with conversation ids that can only ever name REST conversations."""
from channels.rest.input import SENDER_PREFIX, NamespacedRestInput

__all__ = ["NamespacedRestInput", "SENDER_PREFIX"]
