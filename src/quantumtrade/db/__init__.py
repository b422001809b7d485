"""Persistence: ORM tables, engine, repositories, migrations and time-series DDL."""
