"""Market data sources behind one interface: the simulator, Alpaca, and file import."""
