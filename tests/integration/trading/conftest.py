"""Trading tests use the API tests' app factory (``make_api``): the real app and its lifespan."""

from __future__ import annotations

from integration.api.conftest import AppFactory, make_api

__all__ = ["AppFactory", "make_api"]
