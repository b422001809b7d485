"""Health report shared by infrastructure components."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

HealthStatus = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class ComponentHealth:
    """State of one component: ``degraded`` still serves requests, ``down`` does not."""

    status: HealthStatus
    detail: str | None = None
    latency_ms: float | None = None
    backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self)
