"""Risk use cases of a portfolio.

``limits``: risk limits, enforced inside every order's transaction. ``analytics``: read-only
VaR/CVaR, risk metrics, stress tests and stop suggestions.
"""
