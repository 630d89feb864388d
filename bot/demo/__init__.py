"""Demo borrowers and loans with fixed references and figures (see README)."""
