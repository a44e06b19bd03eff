"""Customer numbers: transactions, RFM, value tiers, NESL and lifecycle."""
