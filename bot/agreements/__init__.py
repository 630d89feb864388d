"""What a negotiation leaves on record: every offer shown, promises to pay, signed agreements."""
