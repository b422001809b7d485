"""Paper trading: portfolios, orders, the ledger and the matching engine."""
