"""``/api/backtest/datasets``: upload your own bar files and backtest on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from quantumtrade.api.deps import CurrentPrincipal, OffsetQuery, SessionDep, SettingsDep
from quantumtrade.api.schemas.backtests import DatasetOut, DatasetPage
from quantumtrade.api.schemas.common import ERROR_RESPONSES, Uuid
from quantumtrade.domain.errors import PayloadTooLarge
from quantumtrade.services import datasets

router = APIRouter(prefix="/api/backtest/datasets", tags=["backtests"], responses=ERROR_RESPONSES)

UPLOAD_PATH = "/api/backtest/datasets"
_CHUNK = 1 << 20


async def _read_capped(upload: UploadFile, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The file exceeds the upload limit of {limit:,} bytes.",
                details={"max_bytes": limit},
            )
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Upload a CSV or Parquet bar file")
async def upload_dataset(
    db: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV or Parquet: timestamp, open, ... volume")],
    name: Annotated[str | None, Form(max_length=200)] = None,
    symbol: Annotated[str | None, Form(min_length=1, max_length=20)] = None,
) -> DatasetOut:
    content = await _read_capped(file, settings.max_upload_bytes)
    row = await datasets.store_dataset(
        db,
        user_id=principal.user.id,
        filename=file.filename or "upload",
        content=content,
        name=name,
        symbol=symbol,
    )
    return DatasetOut.model_validate(row, from_attributes=True)


@router.get("", summary="List your uploaded datasets, newest first")
async def list_datasets(
    db: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: OffsetQuery = 0,
) -> DatasetPage:
    rows, total = await datasets.list_datasets(
        db, user_id=principal.user.id, limit=limit, offset=offset
    )
    items = [DatasetOut.model_validate(row, from_attributes=True) for row in rows]
    return DatasetPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{dataset_id}", summary="Get one of your datasets")
async def get_dataset(dataset_id: Uuid, db: SessionDep, principal: CurrentPrincipal) -> DatasetOut:
    row = await datasets.get_dataset(db, user_id=principal.user.id, dataset_id=dataset_id)
    return DatasetOut.model_validate(row, from_attributes=True)


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a dataset (backtests already run on it keep their results)",
)
async def delete_dataset(dataset_id: Uuid, db: SessionDep, principal: CurrentPrincipal) -> None:
    await datasets.delete_dataset(db, user_id=principal.user.id, dataset_id=dataset_id)
