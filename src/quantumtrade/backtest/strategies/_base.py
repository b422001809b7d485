"""What every strategy shares: params validation, input checks, signal helpers, protocols.

A strategy maps price history to a TARGET position per bar: ``+1`` long, ``0`` flat, ``-1`` short
(only when ``allow_short`` is set). The value at bar ``i`` uses data up to and including bar
``i``; the engine acts on it at the open of bar ``i + 1``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
Int8Array = NDArray[np.int8]


class StrategyParamError(ValueError):
    """A strategy parameter is unknown, of the wrong type or out of its range."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class StrategyParams:
    """Base of the frozen, keyword-only params classes: checks field types, then ``validate()``."""

    allow_short: bool = False

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            _check_type(field.name, getattr(self, field.name), hints[field.name])
        self.validate()

    def validate(self) -> None:
        """Raise ``StrategyParamError`` when a value is out of range (override per strategy)."""

    @property
    def short_value(self) -> int:
        """Return the position taken instead of a short when shorting is off."""
        return -1 if self.allow_short else 0


def _check_type(name: str, value: object, expected: object) -> None:
    allowed: tuple[object, ...] = (
        typing.get_args(expected) if isinstance(expected, types.UnionType) else (expected,)
    )
    for kind in allowed:
        if kind is bool and isinstance(value, bool):
            return
        # bool is an int subclass, but True is never meant as a window length or a threshold
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return
    names = " | ".join(getattr(k, "__name__", str(k)) for k in allowed)
    raise StrategyParamError(f"{name} must be {names}, got {type(value).__name__} {value!r}")


def require(condition: bool, message: str) -> None:
    """Raise ``StrategyParamError(message)`` unless ``condition`` holds."""
    if not condition:
        raise StrategyParamError(message)


def positive_int(name: str, value: int) -> None:
    """Require ``value >= 1``."""
    require(value >= 1, f"{name} must be >= 1, got {value}")


def as_inputs(
    close: ArrayLike,
    high: ArrayLike | None = None,
    low: ArrayLike | None = None,
    volume: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray | None, FloatArray | None, FloatArray | None]:
    """Convert the price series to 1-D float64 arrays and check they have one length."""
    c = np.asarray(close, dtype=np.float64)
    if c.ndim != 1:
        raise ValueError(f"close must be one-dimensional, got shape {c.shape}")
    others: list[FloatArray | None] = []
    for name, series in (("high", high), ("low", low), ("volume", volume)):
        if series is None:
            others.append(None)
            continue
        a = np.asarray(series, dtype=np.float64)
        if a.shape != c.shape:
            raise ValueError(f"{name} must have the shape of close {c.shape}, got {a.shape}")
        others.append(a)
    return c, others[0], others[1], others[2]


@njit(cache=True)
def _hold_events_kernel(events: FloatArray) -> Int8Array:  # pragma: no cover
    out = np.zeros(events.shape[0], dtype=np.int8)
    state = 0
    for i in range(events.shape[0]):
        v = events[i]
        if not np.isnan(v):
            state = int(v)
        out[i] = state
    return out


def hold_events(events: FloatArray) -> Int8Array:
    """Carry each event (a finite value) forward until the next one; 0 before the first."""
    out: Int8Array = _hold_events_kernel(np.asarray(events, dtype=np.float64))
    return out


@njit(cache=True)
def _cross_kernel(diff: FloatArray, short_value: int) -> Int8Array:  # pragma: no cover
    out = np.zeros(diff.shape[0], dtype=np.int8)
    state = 0
    for i in range(1, diff.shape[0]):
        prev = diff[i - 1]
        cur = diff[i]
        # NaN compares false on every side, so a NaN neighbour is no cross.
        if prev <= 0.0 and cur > 0.0:
            state = 1
        elif prev >= 0.0 and cur < 0.0:
            state = short_value
        out[i] = state
    return out


def cross_positions(diff: FloatArray, short_value: int) -> Int8Array:
    """Go long when ``diff`` crosses above zero and to ``short_value`` when it crosses below.

    A cross up at ``i`` means ``diff[i-1] <= 0 < diff[i]``; a cross down ``diff[i-1] >= 0 >
    diff[i]``. Before the first cross the position is flat; a NaN on either side is no cross.
    """
    out: Int8Array = _cross_kernel(np.asarray(diff, dtype=np.float64), int(short_value))
    return out


@njit(cache=True)
def band_machine(
    z: FloatArray, entry: float, exit_: float, allow_short: bool
) -> Int8Array:  # pragma: no cover
    """Run the mean-reversion state machine over ``z`` (see ``mean_reversion``)."""
    # The exit rule depends on the current state, so a forward fill of events cannot express it.
    out = np.zeros(z.shape[0], dtype=np.int8)
    state = 0
    for i in range(z.shape[0]):
        v = z[i]
        if not np.isnan(v):
            if (state == 1 and v >= -exit_) or (state == -1 and v <= exit_):
                state = 0
            if state == 0:
                if v < -entry:
                    state = 1
                elif allow_short and v > entry:
                    state = -1
        out[i] = state
    return out


@njit(cache=True)
def level_machine(
    value: FloatArray, low: float, high: float, high_value: int
) -> Int8Array:  # pragma: no cover
    """Go long when ``value < low`` and to ``high_value`` when ``value > high``; else hold.

    Starts flat; a NaN holds the position. ``low < high`` so both cannot fire on one bar.
    """
    out = np.zeros(value.shape[0], dtype=np.int8)
    state = 0
    for i in range(value.shape[0]):
        v = value[i]
        if v < low:
            state = 1
        elif v > high:
            state = high_value
        out[i] = state
    return out


class SignalFunction(Protocol):
    """A strategy written as a function of the price history and its params."""

    def __call__(
        self,
        close: ArrayLike,
        high: ArrayLike | None = None,
        low: ArrayLike | None = None,
        volume: ArrayLike | None = None,
        *,
        params: Any,
    ) -> Int8Array: ...


@runtime_checkable
class SignalStrategy(Protocol):
    """Anything with a ``signals`` method giving the target position per bar.

    Implementations must be causal: the value at bar ``i`` may use only bars ``0..i``, so that
    ``signals(close[:k])`` equals ``signals(close)[:k]`` for every ``k``. Values are int8 in
    ``{-1, 0, +1}``.
    """

    def signals(
        self,
        close: ArrayLike,
        high: ArrayLike | None = None,
        low: ArrayLike | None = None,
        volume: ArrayLike | None = None,
    ) -> Int8Array: ...


class SharedSignalFunction(Protocol):
    """A strategy's signals from a sweep's shared indicators (``strategies.shared``)."""

    def __call__(self, shared: Any, *, params: Any) -> Int8Array: ...


@dataclasses.dataclass(frozen=True)
class StrategySpec:
    """A registered strategy: its name, params class, signal function and a description.

    ``shared``, when set, gives the same signals as ``function`` from indicators a parameter
    sweep computes once per distinct parameter value (``strategies.shared.WindowIndicators``).
    """

    name: str
    params_type: type[StrategyParams]
    function: SignalFunction
    description: str
    shared: SharedSignalFunction | None = None

    def bind(self, params: StrategyParams | None = None) -> BoundStrategy:
        """Return a ``SignalStrategy`` running this strategy with ``params`` (defaults if None)."""
        params = self.params_type() if params is None else params
        if not isinstance(params, self.params_type):
            raise StrategyParamError(
                f"{self.name} needs {self.params_type.__name__}, got {type(params).__name__}"
            )
        return BoundStrategy(self, params)


@dataclasses.dataclass(frozen=True)
class BoundStrategy:
    """A strategy with fixed params; satisfies ``SignalStrategy``."""

    spec: StrategySpec
    params: StrategyParams

    def signals(
        self,
        close: ArrayLike,
        high: ArrayLike | None = None,
        low: ArrayLike | None = None,
        volume: ArrayLike | None = None,
    ) -> Int8Array:
        return self.spec.function(close, high, low, volume, params=self.params)
