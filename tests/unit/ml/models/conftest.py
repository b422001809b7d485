"""Session fixtures: walk-forward runs (``simulated``) on a random walk and on a planted signal."""

from __future__ import annotations

import pytest

from unit.ml.models.simulated import PLANTED_RHO, Run, run


@pytest.fixture(scope="session")
def random_walk() -> Run:
    return run(0.0, seed=11)


@pytest.fixture(scope="session")
def planted() -> Run:
    return run(PLANTED_RHO, seed=12)
