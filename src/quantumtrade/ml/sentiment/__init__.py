"""Finance-aware text sentiment: a score in [-1, 1], a label, a confidence and the cues behind it.

``score_texts`` reads headlines and social posts with finance idioms, the Loughran-McDonald
lexicon and VADER (see :mod:`quantumtrade.ml.sentiment.text`); ``lexicon`` holds the cues.
"""

from quantumtrade.ml.sentiment.text import (
    LABELS,
    MAX_TEXT_CHARS,
    POSITIVE_THRESHOLD,
    Cue,
    SentimentResult,
    label_for,
    score_text,
    score_texts,
    vader_compound,
    vader_label,
    without_names,
)

__all__ = [
    "LABELS",
    "MAX_TEXT_CHARS",
    "POSITIVE_THRESHOLD",
    "Cue",
    "SentimentResult",
    "label_for",
    "score_text",
    "score_texts",
    "vader_compound",
    "vader_label",
    "without_names",
]
