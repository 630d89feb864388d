"""Follow-up: the assistant writes first (reminders, follow-ups after a miss, re-engagement), inside the
contact rules of the borrower's jurisdiction. Models in `models`, the rules in `rules` (pure), the facts
they read in `facts`, what to schedule in `planner`, the process that sends in `scheduler`."""
