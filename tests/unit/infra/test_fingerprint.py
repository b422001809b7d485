"""Error fingerprints: the same failure always, a different one never, the same hash."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.infra.fingerprint import (
    ExcInfo,
    describe,
    exception_type_name,
    frames_of,
    innermost_own_frame,
    normalize_message,
)


def caught(fail: Any, *args: Any) -> ExcInfo:
    try:
        fail(*args)
    except Exception:
        info = sys.exc_info()
        assert info[0] is not None and info[1] is not None
        return (info[0], info[1], info[2])
    raise AssertionError("did not raise")


def no_price(order: int) -> None:
    raise ValueError(f"order {order} has no price")


def missing(name: str) -> None:
    raise KeyError(name)


def no_price_elsewhere(order: int) -> None:
    raise ValueError(f"order {order} has no price")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order 42 has no price", "order <n> has no price"),
        ("price 101.25 below 99,5", "price <n> below <n>"),
        ("no such order 3fa85f64-5717-4562-b3fc-2c963f66afa6", "no such order <uuid>"),
        ("<object at 0x7f3a2c1b9e50>", "<object at <hex>>"),
        ("request 5f0c3b1e9a7d4c2b8e6f failed", "request <hex> failed"),
        ("unknown symbol 'ZZZZ'", "unknown symbol <str>"),
        ('column "qty" is null', "column <str> is null"),
        ("  spread   over\nlines ", "spread over lines"),
        ("a decade of words", "a decade of words"),  # hex letters alone stay words
    ],
)
def test_the_parts_that_vary_are_normalised(text: str, expected: str) -> None:
    assert normalize_message(text) == expected


def test_repeats_of_one_failure_share_a_fingerprint() -> None:
    first = describe(caught(no_price, 1), message="unhandled error", logger="x")
    second = describe(caught(no_price, 99_123), message="unhandled error", logger="x")
    assert first["fingerprint"] == second["fingerprint"]
    assert len(first["fingerprint"]) == 16
    assert first["exception_type"] == "ValueError"
    assert first["exception_message"] == "order 1 has no price"


def test_another_type_message_or_place_is_another_fingerprint() -> None:
    base = describe(caught(no_price, 1), message="m", logger="x")["fingerprint"]
    elsewhere = describe(caught(no_price_elsewhere, 1), message="m", logger="x")["fingerprint"]
    other_type = describe(caught(missing, "AAPL"), message="m", logger="x")["fingerprint"]
    assert len({base, elsewhere, other_type}) == 3


def test_stack_and_location_name_the_failing_frame() -> None:
    described = describe(caught(no_price, 1), message="m", logger="x")
    assert described["stack"][-1]["function"] == "no_price"
    assert described["stack"][-1]["line"] > 0
    # This file is not the server's code: the location falls back to the innermost frame.
    assert described["location"].endswith("test_fingerprint.py:no_price")


def test_the_location_is_the_innermost_frame_of_the_package() -> None:
    def call_into_package() -> None:
        frames_of(42)  # type: ignore[arg-type]  # fails inside the traceback module

    info = caught(call_into_package)
    frames = frames_of(info[2])
    assert frames[-1].file.endswith("traceback.py")
    assert innermost_own_frame(frames) == next(
        f for f in reversed(frames) if f.file == "quantumtrade/infra/fingerprint.py"
    )
    location = describe(info, message="m", logger="x")["location"]
    assert location == "quantumtrade/infra/fingerprint.py:frames_of"


def test_exception_types_are_named_with_their_module() -> None:
    assert exception_type_name(InvalidInput) == "quantumtrade.domain.errors.InvalidInput"
    assert exception_type_name(ValueError) == "ValueError"


def test_a_record_without_an_exception_has_only_a_fingerprint() -> None:
    described = describe(None, message="disk 93% full", logger="quantumtrade.disk")
    assert set(described) == {"fingerprint"}
    assert described == describe(None, message="disk 97% full", logger="quantumtrade.disk")
    assert described != describe(None, message="disk 93% full", logger="quantumtrade.db")
