"""The agent console: sign-in, the live escalation queue, and the conversation an agent takes over."""
from channels.console.routes import STATIC_DIR, console_router

__all__ = ["STATIC_DIR", "console_router"]
