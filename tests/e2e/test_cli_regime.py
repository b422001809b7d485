"""``quantumtrade regime`` as a user runs it: a bar file's segments, the market's, and a chart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from support import run_cli


def write_bars(path: Path, n: int = 400) -> None:
    """A year of steady gains, then a year of steady losses (little noise)."""
    rng = np.random.default_rng(4)
    drift = np.where(np.arange(n) < n // 2, 0.004, -0.004)
    close = 100 * np.exp(np.cumsum(drift + rng.normal(0, 0.006, n)))
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2022-01-03", periods=n, freq="B").strftime("%Y-%m-%d"),
            "open": close,
            "high": close * 1.005,
            "low": close * 0.995,
            "close": close,
            "volume": 1_000_000,
        }
    )
    frame.to_csv(path, index=False)


def test_regime_of_a_bar_file_prints_its_segments_and_draws_a_chart(
    env: dict[str, str], tmp_path: Path
) -> None:
    bars, chart = tmp_path / "bars.csv", tmp_path / "regimes.png"
    write_bars(bars)
    result = run_cli(
        "regime", "ACME", "--data", str(bars), "--plot", str(chart), "--format", "json", env=env
    )
    assert result.returncode == 0, result.stderr
    segments = json.loads(result.stdout)["segments"]
    assert sum(s["bars"] for s in segments) == 400
    assert segments[0]["start"][:10] == "2022-01-03"
    # The rise starts bull and the fall ends bear; each holds most of its half.
    assert segments[0]["trend_regime"] == "bull" and segments[-1]["trend_regime"] == "bear"
    assert segments[0]["bars"] >= 150 and segments[-1]["bars"] >= 150
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.size[0] > 500


def test_regime_of_a_simulated_symbol_prints_a_table(env: dict[str, str]) -> None:
    result = run_cli("regime", "KO", "--years", "3", env=env)
    assert result.returncode == 0, result.stderr
    assert "KO regimes" in result.stdout and "bars" in result.stdout


def test_regime_of_an_unknown_symbol_fails_with_a_message(env: dict[str, str]) -> None:
    result = run_cli("regime", "NOPE", env=env)
    assert result.returncode == 2
    assert "unknown symbol" in result.stderr
