"""The same seed and data give the same model, byte for byte; the seed matters only via sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantumtrade.ml.evaluation import LogisticModel
from quantumtrade.ml.models import (
    GbmModel,
    PatternModel,
    RulesModel,
    SentimentModel,
    model_hash,
)

Data = tuple[pd.DataFrame, np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def data() -> Data:
    rng = np.random.default_rng(9)
    n = 1_500
    X = pd.DataFrame(
        {
            "ret_20": rng.standard_normal(n),
            "macd_hist": rng.standard_normal(n),
            "rsi": rng.uniform(0, 100, n),
            "pattern_p_up": rng.uniform(0.3, 0.7, n),
            "pattern_n": rng.integers(0, 2, n).astype(np.float64),
            "sent_news": rng.standard_normal(n),
        }
    )
    ret = 0.01 * (0.3 * X["macd_hist"].to_numpy() + rng.standard_normal(n))
    return X, ret > 0, ret


def fitted(model: object, data: Data) -> object:
    X, up, ret = data
    model.fit(X, up, ret)  # type: ignore[attr-defined]
    return model


def test_gbm_same_seed_and_data_give_the_same_hash_and_forecasts(data: Data) -> None:
    X = data[0]
    a = fitted(GbmModel(7, n_estimators=40), data)
    b = fitted(GbmModel(7, n_estimators=40), data)
    assert model_hash(a) == model_hash(b)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))  # type: ignore[attr-defined]
    np.testing.assert_array_equal(a.predict_return(X), b.predict_return(X))  # type: ignore[attr-defined]


def test_gbm_seed_changes_the_model_through_bagging_only(data: Data) -> None:
    X = data[0]
    a = fitted(GbmModel(1, n_estimators=40), data)
    b = fitted(GbmModel(2, n_estimators=40), data)
    assert model_hash(a) != model_hash(b)
    assert not np.array_equal(a.predict_proba(X), b.predict_proba(X))  # type: ignore[attr-defined]
    # without row or column sampling the seed has nothing to drive: same trees
    c = fitted(GbmModel(1, n_estimators=40, bagging_fraction=1.0, feature_fraction=1.0), data)
    d = fitted(GbmModel(2, n_estimators=40, bagging_fraction=1.0, feature_fraction=1.0), data)
    np.testing.assert_array_equal(c.predict_proba(X), d.predict_proba(X))  # type: ignore[attr-defined]


def test_gbm_hash_changes_with_the_data(data: Data) -> None:
    X, up, ret = data
    a = fitted(GbmModel(7, n_estimators=40), data)
    b = fitted(GbmModel(7, n_estimators=40), (X.iloc[:-1], up[:-1], ret[:-1]))
    assert model_hash(a) != model_hash(b)


@pytest.mark.parametrize("factory", [RulesModel, PatternModel, SentimentModel, LogisticModel])
def test_every_model_type_hashes_by_content(factory: type, data: Data) -> None:
    X, up, ret = data
    assert model_hash(fitted(factory(3), data)) == model_hash(fitted(factory(3), data))
    flipped = (X, ~up, -ret)
    assert model_hash(fitted(factory(3), data)) != model_hash(fitted(factory(3), flipped))
    # an unfitted model differs from a fitted one
    assert model_hash(factory(3)) != model_hash(fitted(factory(3), data))


def test_the_hash_is_a_sha256_hex_digest(data: Data) -> None:
    digest = model_hash(fitted(RulesModel(0), data))
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_hashing_is_stable_and_survives_cycles(data: Data) -> None:
    model = fitted(LogisticModel(0), data)
    assert len({model_hash(model) for _ in range(20)}) == 1

    class Node:
        def __init__(self) -> None:
            self.weights = np.arange(3.0)
            self.me = self

    assert model_hash(Node()) == model_hash(Node())
