"""Machine-learning models trained and evaluated on arrays: regimes, features, forecasts.

Nothing here does I/O or touches a database; the services layer feeds bars in and stores what
comes out.
"""
