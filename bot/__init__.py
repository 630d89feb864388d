"""Framework-free core of the debt-negotiation assistant (no Rasa imports)."""
