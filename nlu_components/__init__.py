"""Custom Rasa NLU components: bilingual tokenisation and language detection."""
