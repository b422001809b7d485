"""Score the sentiment of a finance headline or social post, with the cues that decided it.

Three readers add their cues into one raw sum:

1. **Idioms** (:mod:`~quantumtrade.ml.sentiment.lexicon`): finance phrases, price moves, social
   slang and emojis, each with a weight, flipped by a negator shortly before it ("did not miss",
   "fails to beat", "no longer expects") and, for bad news only, by a reverser ("avoids
   bankruptcy"); a negator reaches the nearest cue only. Reported figures against an estimate
   ("EPS $2.40 vs $1.95 est") count :data:`NUMBER_WEIGHT` for a beat, minus it for a miss and
   nothing when in line. Words inside an idiom are not scored again below.
2. **Loughran-McDonald**: each remaining word of the finance lexicon counts ±:data:`LM_WEIGHT`,
   negated the same way.
3. **VADER**: the per-word valences of the unmodified VADER rules (boosters, caps, "but",
   punctuation), minus the words idioms cover and the general words that mean nothing in market
   text (:data:`VADER_NEUTRAL`: "shares", "interest", "crushed"...), normalised as VADER does and
   weighted by :data:`VADER_WEIGHT`. With nothing left out it is VADER's compound exactly
   (:func:`vader_compound`).

A sarcasm marker ("/s", "yeah right", 🙃) turns VADER's positive words negative and adds its
own negative cue. The raw sum ``r`` becomes ``score = r / sqrt(r² + ALPHA)`` in (-1, 1), VADER's
own squashing, so one strong idiom (r = 2) scores about 0.7.

Labels: ``positive`` when ``score >= POSITIVE_THRESHOLD``, ``negative`` when
``score <= -POSITIVE_THRESHOLD``, else ``neutral``. ``confidence`` is the estimated probability
that the label is right (see :func:`confidence`); empty text is neutral with confidence 0.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    SentimentIntensityAnalyzer,
    SentiText,
    normalize,
)

from quantumtrade.domain.errors import InvalidInput
from quantumtrade.ml.sentiment import lexicon
from quantumtrade.ml.sentiment.lexicon import (
    DOWN_PERCENT,
    EMOJI_NEUTRAL,
    EMOJI_WEIGHTS,
    GAP_STOPS,
    LM_WEIGHT,
    NEGATION_SCALAR,
    NEGATOR_PAIRS,
    NEGATORS,
    NUMBER,
    PERCENT,
    REVERSERS,
    SARCASM_MARKERS,
    SARCASM_WEIGHT,
    UP_PERCENT,
    VADER_NEUTRAL,
    Idiom,
)

Label = Literal["positive", "negative", "neutral"]
CueSource = Literal["idiom", "lm", "vader", "emoji"]
LABELS: tuple[Label, ...] = ("positive", "negative", "neutral")

MAX_TEXT_CHARS = 5_000
ALPHA = 4.0  # squashing constant: score = raw / sqrt(raw² + ALPHA)
POSITIVE_THRESHOLD = 0.2  # |score| at which a text stops being neutral
VADER_WEIGHT = 1.5  # raw units per unit of (masked) VADER compound
EMOJI_REPEAT = 0.5  # each repeat of an emoji adds half its weight, up to one repeat
NEGATION_WINDOW = 3  # tokens before a cue searched for a negator, as VADER does
QUESTION_DAMPING = 0.5  # weight kept by VADER and LM cues inside a question
VADER_THRESHOLD = 0.05  # VADER's standard compound thresholds, for the baseline
NUMBER_WEIGHT = 2.0  # raw units of a reported figure above (or below) its estimate

_TOKEN = re.compile(r"(?<![\w.])[+-]\d+(?:[.,]\d+)*%|\d+(?:[.,]\d+)*%?|[a-z]+(?:'[a-z]+)*|[.,;:!?]")
_SEPARATORS = frozenset(".,;:!?")
_GAP_STOPS = _SEPARATORS | GAP_STOPS
# "EPS $0.87 vs $0.79 est", "Q4 adj. EPS $2.40 vs. consensus $1.95", "-$0.08 vs -$0.31 est".
_FIGURE = r"(-?\$?-?\d+(?:\.\d+)?)(?:\s*(b|bn|m|mln|k|million|billion)\b)?"
_ESTIMATE = r"(?:consensus|est|estimates?|expectations?|expected|forecasts?|street|fcst)"
_VERSUS = re.compile(
    rf"{_FIGURE}\s+(?:vs\.?|versus)\s+(?:(?:the\s+)?({_ESTIMATE})\.?(?:\s+of)?\s+)?{_FIGURE}"
    rf"(?:\s+({_ESTIMATE})\b)?"
)
_SCALE = {"k": 1e3, "m": 1e6, "mln": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_SARCASM_SLASH = re.compile(r"(?<!\S)/s(?![\w/])")
_WHITESPACE_RUN = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?](?!\d)")


@dataclass(frozen=True, slots=True)
class Cue:
    """A piece of text that moved the score: its ``weight`` in raw units, signed."""

    text: str
    source: CueSource
    weight: float

    def to_dict(self) -> dict[str, str | float]:
        return {"text": self.text, "source": self.source, "weight": self.weight}


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """The sentiment of one text: ``score`` in [-1, 1], its label, confidence and cues.

    ``cues`` are in text order; their weights add up to the raw score before squashing.
    """

    score: float
    label: Label
    confidence: float
    cues: tuple[Cue, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "label": self.label,
            "confidence": self.confidence,
            "cues": [cue.to_dict() for cue in self.cues],
        }


def label_for(score: float) -> Label:
    """Return the label of a score: see :data:`POSITIVE_THRESHOLD`."""
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= -POSITIVE_THRESHOLD:
        return "negative"
    return "neutral"


def vader_label(compound: float) -> Label:
    """Return plain VADER's label of a compound score (±0.05, the authors' thresholds)."""
    if compound >= VADER_THRESHOLD:
        return "positive"
    if compound <= -VADER_THRESHOLD:
        return "negative"
    return "neutral"


def score_texts(texts: Iterable[str]) -> list[SentimentResult]:
    """Score each text; results are in input order."""
    return [score_text(text) for text in texts]


def score_text(text: str) -> SentimentResult:
    """Score one headline or post of at most :data:`MAX_TEXT_CHARS` characters."""
    _check(text)
    if not text.strip():
        return SentimentResult(0.0, "neutral", 0.0, ())
    low = _lower(text)
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(low)]
    sarcastic = _is_sarcastic(low)
    cues: list[tuple[int, Cue]] = []
    covered = _figure_cues(text, low, tokens, cues) if " vs" in low or "versus" in low else []
    covered = _idiom_cues(text, tokens, cues, covered)
    spans = [(tokens[i][1], tokens[j - 1][2]) for i, j in covered]
    vader_spans = _vader_cues(text, spans, sarcastic, cues)
    _lm_cues(text, tokens, covered, vader_spans, cues)
    if not text.isascii():
        _emoji_cues(text, cues)
    if sarcastic:
        cues.append((len(text), Cue("sarcasm", "idiom", SARCASM_WEIGHT)))
    if "?" in low:
        cues = _damp_questions(low, cues)
    cues.sort(key=lambda c: c[0])
    ordered = tuple(c for _, c in cues)
    raw = sum(c.weight for c in ordered)
    score = raw / math.sqrt(raw * raw + ALPHA)
    label = label_for(score)
    return SentimentResult(score, label, confidence(score, ordered), ordered)


ENTITY_STAND_IN = "the company"


def without_names(text: str, names: Iterable[str]) -> str:
    """Return ``text`` with each of ``names`` (company names) replaced by a neutral stand-in.

    A name says who, not how it went: "Advanced Micro Devices" or "General Electric" would
    otherwise lend their words' tone to every story about them. Longest names go first, so a
    name inside a longer one is not split.
    """
    for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True):
        text = re.sub(re.escape(name), ENTITY_STAND_IN, text, flags=re.IGNORECASE)
    return text


def vader_compound(text: str) -> float:
    """Return plain VADER's compound score, computed by this module's VADER component.

    Equal to ``SentimentIntensityAnalyzer().polarity_scores(text)["compound"]``; the scorer
    uses the same per-word valences before it leaves words out.
    """
    _check(text)
    valences, _, _, t_text = _vader_valences(text)
    return round(_vader_normalised(valences, t_text), 4)


def confidence(score: float, cues: tuple[Cue, ...]) -> float:
    """Return the estimated probability that ``label_for(score)`` is the right label.

    A logistic function of ``|score|`` and of cue agreement (the share of the cues' absolute
    weight on the side of the score), with separate coefficients for polar and neutral labels,
    fitted by logistic regression on the dev half of the evaluation set
    (``tests/data/sentiment_eval.csv``; ``benchmarks/bench_sentiment.py --calibrate``). Texts
    without any cue are neutral with :data:`_NO_CUE_CONFIDENCE`, the smoothed dev accuracy of
    such texts.

    The fit used the scorer as it read the dev texts before its lexicon was extended from the
    dev errors: a probability must describe texts the lexicon was not written against, and once
    the dev errors were fixed the dev accuracy (0.96) no longer says how often a new text is
    read right (0.75 on the held-out test half).
    """
    features = confidence_features(score, cues)
    if features is None:
        return _NO_CUE_CONFIDENCE
    magnitude, agreement = features
    if label_for(score) == "neutral":
        a, b, c = _NEUTRAL_COEF
    else:
        a, b, c = _POLAR_COEF
    return 1.0 / (1.0 + math.exp(-(a + b * magnitude + c * agreement)))


def confidence_features(score: float, cues: tuple[Cue, ...]) -> tuple[float, float] | None:
    """Return ``(|score|, agreement)`` for :func:`confidence`, or None when no cue has weight.

    Agreement is the share of the cues' absolute weight on the side of the score.
    """
    total = sum(abs(c.weight) for c in cues)
    if total == 0.0:
        return None
    side = sum(abs(c.weight) for c in cues if (c.weight > 0) == (score > 0) and c.weight != 0)
    return abs(score), side / total


# Fitted on the dev split (see ``confidence``); intercept, |score|, agreement.
_POLAR_COEF = (-1.22, 4.98, -0.06)  # 131 polar dev texts, 79% right
_NEUTRAL_COEF = (-3.49, -6.01, 3.89)  # 15 neutral dev texts with cues, 27% right
_NO_CUE_CONFIDENCE = 0.74  # 41 dev texts without cues, 31 right; (31 + 1) / (41 + 2)


def _damp_questions(low: str, cues: list[tuple[int, Cue]]) -> list[tuple[int, Cue]]:
    """Scale the general-lexicon cues of question sentences by :data:`QUESTION_DAMPING`.

    "Which is better, X or Y?" asks; it does not praise. Idioms and emojis keep their weight:
    "another guidance cut??" is still bad news.
    """
    out = []
    for pos, cue in cues:
        end = _SENTENCE_END.search(low, pos)
        if cue.source in ("vader", "lm") and end is not None and end.group() == "?":
            cue = Cue(cue.text, cue.source, cue.weight * QUESTION_DAMPING)
        out.append((pos, cue))
    return out


def _check(text: str) -> None:
    if not isinstance(text, str):
        raise InvalidInput(f"text must be a string, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            f"text has {len(text):,} characters; the scorer takes at most {MAX_TEXT_CHARS:,}",
            code="text_too_long",
        )


def _lower(text: str) -> str:
    """Lower-case ``text`` keeping every character at its offset (curly apostrophes too)."""
    low = text.lower().replace("\u2019", "'")
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text).replace("\u2019", "'")


def _is_sarcastic(low: str) -> bool:
    if _SARCASM_SLASH.search(low):
        return True
    return any(marker in low for marker in SARCASM_MARKERS if marker != "/s")


def _number_classes(token: str) -> tuple[str, ...]:
    """Return the number slots a token fills: ``#``, ``#%``, ``+#%``, ``-#%`` or none."""
    first = token[0]
    if first.isdigit():
        return (PERCENT,) if token.endswith("%") else (NUMBER,)
    if first == "+":
        return (PERCENT, UP_PERCENT)
    if first == "-":
        return (PERCENT, DOWN_PERCENT)
    return ()


def _slot_matches(slot: frozenset[str], token: str) -> bool:
    if token in slot:
        return True
    if token[0].isalpha():
        return False
    return any(c in slot for c in _number_classes(token))


def _match(idiom: Idiom, tokens: list[tuple[str, int, int]], start: int) -> int:
    """Return the end (exclusive token index) of ``idiom`` matched at ``start``, or -1."""

    def walk(k: int, pos: int) -> int:
        if k == len(idiom.slots):
            return pos
        slot = idiom.slots[k]
        if isinstance(slot, int):
            for skip in range(slot + 1):
                at = pos + skip
                if at >= len(tokens) or (skip and tokens[at - 1][0] in _GAP_STOPS):
                    break
                end = walk(k + 1, at)
                if end >= 0:
                    return end
            return -1
        if pos < len(tokens) and _slot_matches(slot, tokens[pos][0]):
            return walk(k + 1, pos + 1)
        return -1

    return walk(1, start + 1)


def _negation(
    tokens: list[tuple[str, int, int]],
    start: int,
    weight: float,
    blocked: frozenset[int] = frozenset(),
) -> int | None:
    """Return the index of the token that negates a cue at ``start``, if any.

    Searched within :data:`NEGATION_WINDOW` tokens before it, not across a sentence break nor
    across another idiom (``blocked`` tokens): "fails to offset weak outlook" negates
    "fails to offset", not "weak outlook".
    """
    for k in range(start - 1, max(start - NEGATION_WINDOW, 0) - 1, -1):
        word = tokens[k][0]
        if word in _SEPARATORS or k in blocked:
            return None
        if word in NEGATORS or (weight < 0 and word in REVERSERS):
            return k
        pair = NEGATOR_PAIRS.get(word)
        if pair is not None and k > 0 and tokens[k - 1][0] in pair:
            return k - 1
    return None


def _figure_cues(
    text: str, low: str, tokens: list[tuple[str, int, int]], cues: list[tuple[int, Cue]]
) -> list[tuple[int, int]]:
    """Append a cue per reported figure compared with its estimate; return their token ranges.

    "actual vs estimate" needs an estimate word before the second figure or after it; the
    higher figure wins (for EPS, revenue and the like), equal figures are in line (weight 0).
    """
    taken: list[tuple[int, int]] = []
    for m in _VERSUS.finditer(low):
        if m.group(3) is None and m.group(6) is None:
            continue
        actual = _figure(m.group(1), m.group(2))
        estimate = _figure(m.group(4), m.group(5))
        if actual is None or estimate is None:
            continue
        weight = (
            NUMBER_WEIGHT if actual > estimate else -NUMBER_WEIGHT if actual < estimate else 0.0
        )
        first = next((i for i, t in enumerate(tokens) if t[1] >= m.start()), len(tokens))
        last = next((i for i, t in enumerate(tokens) if t[1] >= m.end()), len(tokens))
        if first < last:
            taken.append((first, last))
        cues.append((m.start(), Cue(text[m.start() : m.end()], "idiom", weight)))
    return taken


def _figure(number: str, unit: str | None) -> float | None:
    try:
        value = float(number.replace("$", ""))
    except ValueError:
        return None
    return value * _SCALE.get(unit or "", 1.0)


def _idiom_cues(
    text: str,
    tokens: list[tuple[str, int, int]],
    cues: list[tuple[int, Cue]],
    taken: list[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Append the idiom cues (longest first, no overlaps with each other or ``taken``).

    Return the token ranges of all idioms, ``taken`` included.
    """
    heads = lexicon.idioms_by_head()
    found: list[tuple[int, int, Idiom]] = []
    for i, (word, _, _) in enumerate(tokens):
        candidates = heads.get(word, ())
        if not word[0].isalpha():
            for cls in _number_classes(word):
                candidates = candidates + heads.get(cls, ())
        for idiom in candidates:
            second = idiom.slots[1] if len(idiom.slots) > 1 else 0
            if not isinstance(second, int) and (
                i + 1 == len(tokens) or not _slot_matches(second, tokens[i + 1][0])
            ):
                continue  # the common case, settled without the matcher
            end = _match(idiom, tokens, i)
            if end > 0:
                found.append((i, end, idiom))
    found.sort(key=lambda f: (f[0] - f[1], f[0]))
    taken = list(taken)
    chosen: list[tuple[int, int, Idiom]] = []
    for start, end, idiom in found:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        chosen.append((start, end, idiom))
    blocked = frozenset(k for a, b in taken for k in range(a, b))
    for start, end, idiom in chosen:
        weight = idiom.weight
        negator = _negation(tokens, start, weight, blocked) if weight else None
        first = start
        if negator is not None:
            weight *= NEGATION_SCALAR
            first = negator
        span = text[tokens[first][1] : tokens[end - 1][2]]
        cues.append((tokens[first][1], Cue(span, "idiom", weight)))
    return taken


def _lm_cues(
    text: str,
    tokens: list[tuple[str, int, int]],
    covered: list[tuple[int, int]],
    vader_spans: list[tuple[int, int]],
    cues: list[tuple[int, Cue]],
) -> None:
    """Append a cue per LM word outside idioms that VADER did not already score."""
    positive, negative = lexicon.lm_words()
    blocked = frozenset(k for a, b in covered for k in range(a, b))
    for i, (word, start, end) in enumerate(tokens):
        if word in positive:
            weight = LM_WEIGHT
        elif word in negative:
            weight = -LM_WEIGHT
        else:
            continue
        if any(c_start <= i < c_end for c_start, c_end in covered) or any(
            a <= start < b for a, b in vader_spans
        ):
            continue
        negator = _negation(tokens, i, weight, blocked)
        if negator is not None:
            weight *= NEGATION_SCALAR
            start = tokens[negator][1]
        cues.append((start, Cue(text[start:end], "lm", weight)))


def _emoji_cues(text: str, cues: list[tuple[int, Cue]]) -> None:
    seen: dict[str, tuple[int, int]] = {}
    for pos, ch in enumerate(text):
        if ch in EMOJI_WEIGHTS:
            first, count = seen.get(ch, (pos, 0))
            seen[ch] = (first, count + 1)
    for ch, (first, count) in seen.items():
        weight = EMOJI_WEIGHTS[ch] * (1.0 + EMOJI_REPEAT * min(count - 1, 1))
        cues.append((first, Cue(ch * count, "emoji", weight)))


@cache
def _analyzer() -> Any:
    return SentimentIntensityAnalyzer()


def _vader_text(text: str) -> tuple[str, list[int] | int]:
    """Return VADER's text (emojis as their names, stripped) and where its characters came from.

    The origin is an offset (the text had no emoji) or, per character, its index in ``text``.
    The replacement is VADER's own: a name, preceded by a space unless one is already there.
    """
    emojis = _analyzer().emojis
    hits = [] if text.isascii() else [pos for pos, ch in enumerate(text) if ch in emojis]
    if not hits:
        return text.strip(), len(text) - len(text.lstrip())
    out: list[str] = []
    origin: list[int] = []
    prev_space, last = True, 0
    for pos in [*hits, len(text)]:
        if pos > last:
            out.append(text[last:pos])
            origin.extend(range(last, pos))
            prev_space = text[pos - 1] == " "
        if pos == len(text):
            break
        name = emojis[text[pos]]
        piece = name if prev_space else " " + name
        out.append(piece)
        origin.extend([pos] * len(piece))
        prev_space, last = False, pos + 1
    joined = "".join(out)
    stripped = joined.strip()
    lead = len(joined) - len(joined.lstrip())
    return stripped, origin[lead : lead + len(stripped)]


_VADER_REACH_BEFORE = 3  # words before a word that VADER's valence rules read
_VADER_REACH_AFTER = 2  # words after it ("no" before a word, "kind of", special cases)


VALENCE_CACHE_SIZE = 1 << 16  # word windows whose VADER valence is remembered


@dataclass(slots=True)
class _Window:
    """The part of VADER's ``SentiText`` that its valence rules read."""

    words_and_emoticons: list[str]
    is_cap_diff: bool


@lru_cache(maxsize=VALENCE_CACHE_SIZE)
def _window_valence(window: tuple[str, ...], at: int, is_cap_diff: bool) -> float:
    """VADER's valence of ``window[at]`` given its neighbours (memoised: phrases repeat)."""
    sentitext = _Window(list(window), is_cap_diff)
    return float(_analyzer().sentiment_valence(0, sentitext, window[at], at, [])[0])


def _vader_valences(
    text: str,
) -> tuple[list[float], dict[int, tuple[int, int]], list[str], str]:
    """Return VADER's per-word valences, the span in ``text`` of each word with a valence, its
    words and its text.

    The loop is ``SentimentIntensityAnalyzer.polarity_scores`` up to the point where it sums.
    """
    analyzer = _analyzer()
    valences_of = analyzer.lexicon
    t_text, origin = _vader_text(text)
    sentitext = SentiText(t_text)
    words: list[str] = sentitext.words_and_emoticons
    lowered = [word.lower() for word in words]
    sentiments: list[float] = [0.0] * len(words)
    for i in [i for i, low in enumerate(lowered) if low in valences_of]:
        low = lowered[i]
        if low in BOOSTER_DICT or (low == "kind" and i < len(words) - 1 and lowered[i + 1] == "of"):
            continue
        # VADER's rules read at most three words before a word and two after it; handing them
        # that window instead of the whole text gives the same valence without the per-word
        # copies of the whole word list they make.
        lo = max(i - _VADER_REACH_BEFORE, 0)
        window = tuple(words[lo : i + _VADER_REACH_AFTER + 1])
        sentiments[i] = _window_valence(window, i - lo, sentitext.is_cap_diff)
    if "but" in lowered:
        sentiments = analyzer._but_check(words, sentiments)
    valences = [float(v) for v in sentiments]
    spans: dict[int, tuple[int, int]] = {}
    if any(valences):
        runs = [m.span() for m in _WHITESPACE_RUN.finditer(t_text)]
        if len(runs) != len(words):
            raise AssertionError("VADER's words are its text's whitespace runs")
        for i, v in enumerate(valences):
            if v:
                a, b = runs[i]
                if isinstance(origin, int):
                    spans[i] = (a + origin, b + origin)
                else:
                    spans[i] = (origin[a], origin[b - 1] + 1)
    return valences, spans, words, t_text


def _vader_normalised(valences: list[float], t_text: str) -> float:
    """VADER's compound from per-word valences: sum, punctuation emphasis, normalise."""
    if not valences:
        return 0.0
    total = float(sum(valences))
    emphasis = float(_analyzer()._punctuation_emphasis(t_text))
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    return float(normalize(total))


def _vader_cues(
    text: str, spans: list[tuple[int, int]], sarcastic: bool, cues: list[tuple[int, Cue]]
) -> list[tuple[int, int]]:
    """Append VADER's cues outside idioms and emojis; return the spans of the words kept."""
    valences, word_spans, words, t_text = _vader_valences(text)
    has_emoji = not text.isascii()
    kept: list[float] = []
    scored: list[tuple[int, int, float]] = []
    for i, (a, b) in word_spans.items():
        valence = valences[i]
        if words[i].lower() in VADER_NEUTRAL:
            continue
        if any(a < s_end and s_start < b for s_start, s_end in spans) or (
            has_emoji and any(ch in EMOJI_WEIGHTS or ch in EMOJI_NEUTRAL for ch in text[a:b])
        ):
            continue
        if sarcastic and valence > 0:
            valence = -valence
        kept.append(valence)
        scored.append((a, b, valence))
    if not scored:
        return []
    total = sum(kept)
    contribution = VADER_WEIGHT * _vader_normalised(kept, t_text)
    share = contribution / total if total else 0.0
    for a, b, valence in scored:
        word = text[a:b].strip(string.punctuation) or text[a:b]
        cues.append((a, Cue(word, "vader", valence * share)))
    return [(a, b) for a, b, _ in scored]
