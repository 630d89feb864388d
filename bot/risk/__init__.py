"""Early-warning risk: the probability that an active loan rolls into (or deeper into) 30+ days past due."""
