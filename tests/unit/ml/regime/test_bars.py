"""Bad bars raise InvalidInput naming the offending rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.ml.regime import RegimeModel, classify, fit


def test_classify_missing_close_raises_missing_column(
    model: RegimeModel, train_bars: pd.DataFrame
) -> None:
    with pytest.raises(InvalidInput) as caught:
        classify(train_bars.drop(columns="close"), model)
    assert caught.value.code == "missing_column" and "close" in caught.value.message


def test_classify_nan_close_names_the_rows(model: RegimeModel, train_bars: pd.DataFrame) -> None:
    bars = train_bars.iloc[:50].copy()
    bars.iloc[[7, 30], bars.columns.get_loc("close")] = np.nan
    with pytest.raises(InvalidInput) as caught:
        classify(bars, model)
    assert caught.value.code == "missing_values"
    assert caught.value.details["positions"] == [7, 30]
    assert str(bars.index[7]) in caught.value.message


def test_classify_non_increasing_timestamps_names_the_rows(
    model: RegimeModel, train_bars: pd.DataFrame
) -> None:
    bars = train_bars.iloc[:50]
    index = bars.index.to_list()
    index[12] = index[11]  # a duplicate
    index[20], index[21] = index[21], index[20]  # a step back
    with pytest.raises(InvalidInput) as caught:
        classify(bars.set_axis(pd.DatetimeIndex(index)), model)
    assert caught.value.code == "unordered_bars"
    assert caught.value.details["positions"] == [12, 21]


def test_fit_too_few_bars_raises_too_few_bars(train_bars: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput) as caught:
        fit(train_bars.iloc[:20])
    assert caught.value.code == "too_few_bars"


def test_classify_one_bar_raises_too_few_bars(model: RegimeModel, train_bars: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="at least 2 bars"):
        classify(train_bars.iloc[:1], model)


def test_classify_non_positive_price_names_the_row(
    model: RegimeModel, train_bars: pd.DataFrame
) -> None:
    bars = train_bars.iloc[:40].copy()
    bars.iloc[9, bars.columns.get_loc("low")] = 0.0
    with pytest.raises(InvalidInput) as caught:
        classify(bars, model)
    assert caught.value.code == "non_positive_price" and caught.value.details["positions"] == [9]


def test_classify_volume_model_on_bars_without_volume_raises(
    model: RegimeModel, train_bars: pd.DataFrame
) -> None:
    with pytest.raises(InvalidInput, match="volume"):
        classify(train_bars[["close"]], model)


def test_classify_unknown_mode_raises(model: RegimeModel, train_bars: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput) as caught:
        classify(train_bars, model, mode="hindsight")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_mode"
