"""The report response models: every documented example validates against its own model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from quantumtrade.api.schemas import reports

MODELS = [
    value
    for value in vars(reports).values()
    if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_examples_validate(model: type[BaseModel]) -> None:
    extra: Any = model.model_config.get("json_schema_extra") or {}
    for example in extra.get("examples", []):
        model.model_validate(example)


def test_a_date_is_text_not_a_number() -> None:
    class Probe(BaseModel):
        day: reports.IsoDate

    assert Probe.model_validate({"day": "2026-11-18"}).day.isoformat() == "2026-11-18"
    with pytest.raises(ValueError):
        Probe.model_validate({"day": 1763424000})
