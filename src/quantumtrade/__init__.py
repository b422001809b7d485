"""QuantumTrade: an AI-assisted algorithmic trading backend."""

__version__ = "0.1.0"
