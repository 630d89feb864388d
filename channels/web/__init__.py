"""The web app on WEB_PORT: the lender's demo page with the chat widget, and the agent console."""
