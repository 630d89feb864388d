"""Borrowers, loans, their schedules, payments and charges, and what is overdue."""
