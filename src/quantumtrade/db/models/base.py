"""Declarative base, naming convention and shared column helpers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quantumtrade.db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TIMESERIES_KEY = "timeseries_column"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)


def created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, nullable=False, default=utcnow)


def timeseries_tables() -> dict[str, str]:
    """Return ``{table name: time column}`` for the tables partitioned by time."""
    return {
        table.name: table.info[TIMESERIES_KEY]
        for table in Base.metadata.sorted_tables
        if TIMESERIES_KEY in table.info
    }
