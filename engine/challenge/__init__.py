"""The built-in claim-and-evaluate process's own read models: the challenge board, claims, the score ledger."""
