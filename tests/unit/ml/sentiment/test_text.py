"""Behaviour of the finance text sentiment scorer, and its accuracy against plain VADER."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.ml.sentiment import (
    LABELS,
    MAX_TEXT_CHARS,
    POSITIVE_THRESHOLD,
    SentimentResult,
    label_for,
    score_text,
    score_texts,
    vader_compound,
    vader_label,
)
from quantumtrade.ml.sentiment.text import ALPHA

EVAL_CSV = Path(__file__).resolve().parents[3] / "data" / "sentiment_eval.csv"
MARGIN = 0.15  # the scorer must beat plain VADER by 15 points on the test split


def rows(split: str) -> list[dict[str, str]]:
    with EVAL_CSV.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["split"] == split]


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    f1s = []
    for label in LABELS:
        tp = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        support = truth.count(label) + predicted.count(label)
        f1s.append(2 * tp / support if support else 0.0)
    return sum(f1s) / len(f1s)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Harlow Systems beats estimates on strong cloud demand", "positive"),
        ("Harlow Systems cuts full-year guidance", "negative"),
        ("Harlow Systems misses on revenue", "negative"),
        ("Analyst downgrade hits Harlow Systems", "negative"),
        ("Harlow Systems raises dividend by 10%", "positive"),
        ("Harlow Systems Q3 EPS $2.40 vs $1.95 est", "positive"),
        ("Harlow Systems Q3 EPS $0.21 vs $0.44 est", "negative"),
        ("Harlow Systems Q3 EPS -$0.08 vs -$0.31 est", "positive"),
        ("Harlow Systems Q3 EPS $1.00 vs $1.00 est", "neutral"),
        ("Harlow Systems to present at investor conference on Tuesday", "neutral"),
    ],
)
def test_finance_idioms_read_as_a_trader_reads_them(text: str, label: str) -> None:
    assert score_text(text).label == label


@pytest.mark.parametrize(
    ("plain", "turned"),
    [
        ("Harlow Systems beats estimates", "Harlow Systems fails to beat estimates"),
        ("Harlow Systems results worse than feared", "Harlow Systems results not as bad as feared"),
        ("Harlow Systems files for bankruptcy", "Harlow Systems avoids bankruptcy"),
        ("Harlow Systems expects a loss", "Harlow Systems no longer expects a loss"),
    ],
)
def test_negations_and_reversals_flip_the_label(plain: str, turned: str) -> None:
    first, second = score_text(plain), score_text(turned)
    assert first.label != "neutral"
    assert second.label != "neutral"
    assert math.copysign(1, first.score) != math.copysign(1, second.score)


def test_a_reverser_does_not_turn_good_news_bad() -> None:
    assert score_text("Harlow Systems avoids a downgrade").label == "positive"
    assert score_text("Harlow Systems ends probe").label == "positive"


def test_sarcasm_reads_praise_as_its_opposite() -> None:
    praise = "what a wonderful quarter for $HRLW, love it"
    assert score_text(praise).label == "positive"
    assert score_text(praise + " /s").label == "negative"
    assert score_text("great, another 20% drop, love this stock 🙃").label == "negative"
    assert any(cue.text == "sarcasm" for cue in score_text(praise + " /s").cues)


def test_emojis_carry_sentiment_and_repeats_add_less() -> None:
    up, down = score_text("$HRLW 🚀"), score_text("$HRLW 📉")
    assert up.label == "positive" and down.label == "negative"
    assert [cue.source for cue in up.cues] == ["emoji"]
    twice, thrice = score_text("$HRLW 🚀🚀"), score_text("$HRLW 🚀🚀🚀")
    assert up.score < twice.score
    assert twice.score == thrice.score  # repeats beyond the second add nothing
    assert score_text("$HRLW earnings in 2 hrs 🎲").label == "neutral"


def test_cues_explain_the_score() -> None:
    texts = [row["text"] for row in rows("dev")]
    for text, result in zip(texts, score_texts(texts), strict=True):
        raw = sum(cue.weight for cue in result.cues)
        assert result.score == pytest.approx(raw / math.sqrt(raw * raw + ALPHA), abs=1e-12)
        for cue in result.cues:
            if cue.text != "sarcasm":
                assert cue.text in text, (cue, text)
        if result.label != "neutral":
            # the label's side has the larger share of the cue weight
            side = sum(abs(c.weight) for c in result.cues if c.weight * result.score > 0)
            assert side > sum(abs(c.weight) for c in result.cues) / 2


def test_cue_weight_signs_follow_the_words() -> None:
    result = score_text("Harlow Systems beats estimates but cuts guidance")
    weights = {cue.text: cue.weight for cue in result.cues}
    assert weights["beats estimates"] > 0
    assert weights["cuts guidance"] < 0
    assert result.label == "negative"  # guidance matters more to a trader


def test_score_range_and_label_thresholds() -> None:
    texts = [row["text"] for row in rows("dev")] + ["🚀" * 40, "bankruptcy fraud probe " * 20]
    for result in score_texts(texts):
        assert -1.0 <= result.score <= 1.0
        assert 0.0 <= result.confidence <= 1.0
        assert result.label == label_for(result.score)
    assert label_for(POSITIVE_THRESHOLD) == "positive"
    assert label_for(-POSITIVE_THRESHOLD) == "negative"
    assert label_for(math.nextafter(POSITIVE_THRESHOLD, 0.0)) == "neutral"
    assert label_for(math.nextafter(-POSITIVE_THRESHOLD, 0.0)) == "neutral"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_neutral_with_no_confidence(text: str) -> None:
    assert score_text(text) == SentimentResult(0.0, "neutral", 0.0, ())


def test_input_validation() -> None:
    score_text("a" * MAX_TEXT_CHARS)
    with pytest.raises(InvalidInput):
        score_text("a" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(InvalidInput):
        score_text(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        score_texts(["fine", "x" * (MAX_TEXT_CHARS + 1)])


def test_score_texts_keeps_order_and_is_deterministic() -> None:
    texts = [row["text"] for row in rows("dev")[:60]]
    batch = score_texts(texts)
    assert batch == [score_text(text) for text in texts]
    assert batch[::-1] == score_texts(texts[::-1])
    assert score_texts(iter(texts)) == batch


def test_vader_baseline_is_plain_vader() -> None:
    analyzer = SentimentIntensityAnalyzer()
    for row in rows("dev")[:80]:
        assert vader_compound(row["text"]) == analyzer.polarity_scores(row["text"])["compound"]
    assert vader_label(0.05) == "positive" and vader_label(-0.05) == "negative"
    assert vader_label(0.049) == "neutral"


def test_scorer_beats_plain_vader_by_15_points_on_the_test_split() -> None:
    test = rows("test")
    truth = [row["label"] for row in test]
    mine = [result.label for result in score_texts(row["text"] for row in test)]
    vader = [vader_label(vader_compound(row["text"])) for row in test]
    assert accuracy(truth, mine) >= accuracy(truth, vader) + MARGIN
    assert macro_f1(truth, mine) >= macro_f1(truth, vader) + MARGIN


def test_confidence_beats_a_constant_on_the_test_split() -> None:
    dev, test = rows("dev"), rows("test")
    dev_accuracy = accuracy(
        [row["label"] for row in dev], [score_text(row["text"]).label for row in dev]
    )
    results = score_texts(row["text"] for row in test)
    hits = [float(r.label == row["label"]) for r, row in zip(results, test, strict=True)]
    brier = sum((r.confidence - h) ** 2 for r, h in zip(results, hits, strict=True)) / len(hits)
    constant = sum((dev_accuracy - h) ** 2 for h in hits) / len(hits)
    assert brier < constant
