"""Deliver messages to users through the outbox, in the transaction that caused them."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from quantumtrade.core.settings import Environment
from quantumtrade.db.models import NotificationOutbox

log = structlog.get_logger(__name__)


class OutboxNotifier:
    """Write each notification to ``notification_outbox``; a sender process delivers them.

    In development the message, token included, is also written to the log so a developer can
    finish a password reset without a mail server. Other environments never log its payload.
    """

    def __init__(self, environment: Environment) -> None:
        self._environment = environment

    async def send(
        self,
        session: AsyncSession,
        *,
        user_id: uuid.UUID | None,
        recipient: str,
        kind: str,
        payload: dict[str, Any],
        channel: str = "email",
    ) -> None:
        """Queue a notification in the caller's transaction."""
        session.add(
            NotificationOutbox(
                user_id=user_id, channel=channel, kind=kind, recipient=recipient, payload=payload
            )
        )
        if self._environment is Environment.DEVELOPMENT:
            log.info("notification queued", kind=kind, recipient=recipient, **payload)
        else:
            log.info("notification queued", kind=kind, user_id=str(user_id))
