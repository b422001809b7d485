"""Paper trading rules: orders and their lifecycle, the ledger, the order book, performance."""
