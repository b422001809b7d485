"""``/api/admin``: the server's stored error records, for administrators only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from quantumtrade.api.deps import ContainerDep, CurrentAdmin, OffsetQuery
from quantumtrade.api.schemas.admin import ErrorGroupsOut, LogPage
from quantumtrade.api.schemas.common import ERROR_RESPONSES, IsoDateTime, refused
from quantumtrade.services import monitoring

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    responses={**ERROR_RESPONSES, **refused("The account is not an administrator")},
)

Limit = Annotated[int, Query(ge=1, le=monitoring.MAX_LIST)]
Since = Annotated[
    IsoDateTime | None, Query(description="Inclusive; a time without an offset is UTC.")
]


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


# Spelled out letter by letter: an OpenAPI pattern is an ECMA-262 regex, which has no (?i).
LEVEL_PATTERN = "^(" + "|".join(_any_case(name) for name in monitoring.LEVELS) + ")$"


@router.get("/logs", response_model=LogPage, summary="Stored log records, newest first")
async def list_logs(
    container: ContainerDep,
    _admin: CurrentAdmin,
    level: Annotated[
        str | None,
        Query(
            pattern=LEVEL_PATTERN,
            description=(
                "This level and the more severe ones: debug, info, warning, error or critical "
                "(any letter case)."
            ),
        ),
    ] = None,
    since: Since = None,
    until: Annotated[IsoDateTime | None, Query(description="Exclusive.")] = None,
    request_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9._-]+$",
            description="Only the records of this request (its X-Request-ID).",
        ),
    ] = None,
    limit: Limit = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    """What the server stored in ``system_logs`` (errors and worse, unless ``DB_LOG_LEVEL``
    says otherwise): each record with its request id and, for an exception, its traceback and
    fingerprint."""
    items, total = await monitoring.list_logs(
        container,
        level=None if level is None else level.lower(),
        since=since,
        until=until,
        request_id=request_id,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/errors", response_model=ErrorGroupsOut, summary="Errors grouped by fingerprint, with counts"
)
async def error_groups(
    container: ContainerDep, _admin: CurrentAdmin, since: Since = None, limit: Limit = 50
) -> dict[str, Any]:
    """Every failure once, with how often and when it happened and its latest request id."""
    items, total = await monitoring.error_groups(container, since=since, limit=limit)
    return {"items": items, "total": total, "limit": limit}
