"""How people reach a conversation: Telegram, the web chat widget, and the agent console."""
