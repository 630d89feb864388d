"""Identity verification before disclosure: attempt log, lock-out, matching."""
