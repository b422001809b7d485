"""Helpers for long-running service tasks."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Honour a cancellation that a library swallowed while this task was awaiting it.

    Loops that run for the server's lifetime call this each round, so shutdown always ends them.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
