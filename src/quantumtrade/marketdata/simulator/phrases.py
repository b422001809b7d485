"""The phrase bank of the simulated news and social media: templates, synonyms and names.

A template is a ``str.format`` string whose fields are filled by :class:`Slots`:

- *values* the caller computes (``co`` the company's short name, ``sym`` the ticker, ``eps``,
  ``est``, ``pct``, ``pt``...), passed in a mapping;
- *tiered words* (:data:`TIERED`): three lists per field, from mild to strong, and the tier of
  the story picks the list, so a larger impact reads "crushes estimates" rather than "edges
  past estimates";
- *synonyms* (:data:`SYNONYMS`): any one of the list.

Every choice is made with uniforms drawn in one numpy batch per item, so filling stays cheap
and deterministic. Story kinds, with the sign their wording carries, are the keys of
:data:`HEADLINES` (headline templates) and :data:`SUMMARIES` (first summary sentences);
:data:`DETAILS` holds optional later sentences, by polarity. Scheduled macro releases are in
:data:`MACRO`. Social templates are in :data:`POSTS`.
Firm names, sources, authors and handles are invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

MILD, SOLID, STRONG = 0, 1, 2

# Words graded by strength: (mild, solid, strong).
TIERED: Mapping[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "beat": (
        ("edges past", "narrowly tops", "slightly beats", "squeaks past"),
        ("beats", "tops", "exceeds", "surpasses"),
        ("crushes", "smashes", "blows past", "trounces"),
    ),
    "beat_past": (
        ("edged past", "narrowly topped", "slightly beat"),
        ("beat", "topped", "exceeded", "surpassed"),
        ("crushed", "smashed", "blew past", "trounced"),
    ),
    "miss": (
        ("narrowly misses", "falls just short of", "slightly misses"),
        ("misses", "falls short of", "trails", "lags"),
        ("badly misses", "falls well short of", "sharply misses"),
    ),
    "miss_past": (
        ("narrowly missed", "fell just short of", "slightly missed"),
        ("missed", "fell short of", "trailed"),
        ("badly missed", "fell well short of", "sharply missed"),
    ),
    "rise": (
        ("edge higher", "tick up", "firm", "inch up"),
        ("rise", "climb", "gain", "advance"),
        ("soar", "surge", "jump", "skyrocket", "rocket higher"),
    ),
    "rises": (
        ("edges higher", "ticks up", "firms", "inches up"),
        ("rises", "climbs", "gains", "advances"),
        ("soars", "surges", "jumps", "skyrockets", "rallies"),
    ),
    "fall": (
        ("edge lower", "dip", "slip", "ease"),
        ("fall", "drop", "decline", "slide"),
        ("plunge", "tumble", "sink", "crater", "plummet"),
    ),
    "falls": (
        ("edges lower", "dips", "slips", "eases"),
        ("falls", "drops", "declines", "slides"),
        ("plunges", "tumbles", "sinks", "craters", "plummets"),
    ),
    "raise": (
        ("nudges up", "modestly raises", "trims up"),
        ("raises", "lifts", "boosts"),
        ("sharply raises", "hikes", "significantly boosts"),
    ),
    "cut": (
        ("trims", "modestly lowers", "pares"),
        ("cuts", "lowers", "reduces"),
        ("slashes", "sharply cuts", "withdraws"),
    ),
    "good": (
        ("steady", "decent", "respectable"),
        ("solid", "strong", "healthy"),
        ("blowout", "stellar", "record"),
    ),
    "bad": (
        ("soft", "mixed", "choppy"),
        ("weak", "disappointing", "gloomy"),
        ("dismal", "grim", "bleak"),
    ),
    "cheer": (
        ("welcome", "take comfort in", "nod at"),
        ("cheer", "applaud", "reward"),
        ("pile into the stock after", "celebrate", "rush to buy after"),
    ),
    "punish": (
        ("shrug off", "sell lightly on", "balk at"),
        ("punish", "sell the stock on", "dump shares after"),
        ("flee the stock after", "hammer the shares on", "rush for the exits after"),
    ),
}

SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "estimates": (
        "estimates",
        "expectations",
        "Wall Street estimates",
        "consensus",
        "the Street's view",
        "analyst forecasts",
    ),
    "profit": ("profit", "earnings", "EPS", "adjusted earnings", "quarterly earnings"),
    "revenue": ("revenue", "sales", "top line", "net sales"),
    "outlook": ("guidance", "outlook", "full-year forecast", "annual guidance", "forecast"),
    "shares": ("shares", "the shares", "its shares"),
    "said": ("said", "reported", "announced", "noted"),
    "analysts": ("analysts", "investors", "traders", "sell-side analysts"),
    "when_ah": ("in extended trading", "after hours", "in late trading", "after the bell"),
    "when_pm": ("in premarket trading", "before the bell", "ahead of the open", "in early trade"),
    "probe": ("probe", "investigation", "inquiry", "formal investigation"),
    "regulator": ("the SEC", "the FTC", "the Justice Department", "EU regulators", "the CFPB"),
    "court": ("a federal court", "a Delaware court", "a jury in Texas", "a court in California"),
    "agency": ("the FDA", "the Food and Drug Administration", "federal regulators"),
    "trial": ("Phase 3", "late-stage", "pivotal", "Phase 2b"),
    "market": ("stocks", "Wall Street", "U.S. equities", "the S&P 500", "the broader market"),
    "yields": ("Treasury yields", "the 10-year yield", "bond yields", "two-year yields"),
    "fed": ("the Fed", "the Federal Reserve", "policymakers", "the central bank", "the FOMC"),
    "buyback_word": ("buyback", "share repurchase program", "repurchase authorization"),
    "accumulate": ("keep accumulating", "add to holdings", "step up buying", "sit tight"),
    "updown": ("moved higher", "moved lower", "were little changed", "ended mixed"),
    "market_cap": ("Stocks", "U.S. stocks", "Equities", "Shares on Wall Street"),
    "index": ("S&P 500", "Nasdaq Composite", "Dow Jones Industrial Average", "Russell 2000"),
    "cause_up": (
        "inflation cooled more than expected",
        "Treasury yields fell",
        "the Fed signaled cuts",
        "big tech earnings impressed",
        "jobs data eased rate fears",
        "oil prices retreated",
    ),
    "cause_down": (
        "inflation ran hotter than expected",
        "Treasury yields jumped",
        "the Fed signaled more hikes",
        "recession fears mounted",
        "a hot jobs report revived rate fears",
        "oil prices spiked",
    ),
    "venue": ("Binance", "Coinbase", "Kraken", "OKX", "Bitstamp", "Gemini"),
}

ANALYST_FIRMS = (
    "Harrowgate & Co.", "Bellwether & Finch", "Stonebridge Capital Markets",
    "Calloway Partners", "Northlake Research", "Pemberton Rhodes", "Ashgrove Capital",
    "Kittering & Vance", "Redwater Advisory", "Halcyon Street Research", "Marlowe Brothers",
    "Quayside Capital", "Ferncastle Equity Research", "Tidewell Markets",
)  # fmt: skip
RATINGS_UP = ("Buy", "Outperform", "Overweight", "Strong Buy")
RATINGS_DOWN = ("Sell", "Underperform", "Underweight", "Reduce")
RATINGS_MID = ("Hold", "Neutral", "Equal Weight", "Market Perform")
NEWS_SOURCES = (
    "Simulated Wire", "MarketPulse Newsroom", "Ledger Street Journal", "Tickerline",
    "The Closing Bell Report", "Capital Dispatch", "Quarterly Ledger News",
)  # fmt: skip
FIRST_NAMES = (
    "Avery", "Blake", "Celia", "Dmitri", "Esme", "Felix", "Gwen", "Hugo", "Imogen", "Jasper",
    "Keiko", "Lionel", "Maren", "Nikhil", "Odile", "Pavel", "Rhea", "Silas", "Talia", "Viktor",
)  # fmt: skip
LAST_NAMES = (
    "Ashcombe", "Brandt", "Corvino", "Dunmore", "Eastbrook", "Falkner", "Greaves", "Holloway",
    "Ingram", "Jessop", "Kowalczyk", "Lockhart", "Mbeki", "Navarro", "Oyelaran", "Prescott",
)  # fmt: skip
DRUGS = (
    "zelvratinib", "orvenumab", "caldexitide", "temoralisib", "brivanocept", "lunetrexin",
    "xavotolimab", "sorafilast", "dexarimod", "pentazumab",
)  # fmt: skip
CONDITIONS = (
    "moderate-to-severe plaque psoriasis", "non-small cell lung cancer", "type 2 diabetes",
    "chronic heart failure", "early Alzheimer's disease", "ulcerative colitis", "obesity",
    "relapsed multiple myeloma", "migraine prevention", "atopic dermatitis",
)  # fmt: skip
CONFERENCES = (
    "the Harrowgate Technology Summit", "the Bellwether Global Consumer Conference",
    "the Northlake Healthcare Forum", "the Stonebridge Oil & Gas Symposium",
    "the Calloway Financials Conference", "the Pemberton Media & Telecom Forum",
)  # fmt: skip
ACQUIRERS = (
    "Blackridge Capital", "Orion Holdings", "Sterling Peak Partners", "Vantage Global",
    "Monarch Industries", "Crescent Ridge Group", "Halberd Equity", "Atlas Crown Partners",
)  # fmt: skip
ROLES = ("chief financial officer", "chief operating officer", "president", "chief technology "
         "officer", "general counsel", "head of investor relations")  # fmt: skip
PRODUCTS = ("platform", "flagship product line", "subscription tier", "enterprise suite",
            "next-generation lineup", "AI assistant", "service bundle")  # fmt: skip
FILINGS = ("10-Q", "8-K", "10-K", "proxy statement", "S-3 shelf registration")
QUARTERS = ("first-quarter", "second-quarter", "third-quarter", "fourth-quarter")

# -- news: headlines per kind ------------------------------------------------------------------

HEADLINES: Mapping[str, tuple[str, ...]] = {
    "earnings_beat": (
        "{co} {beat} {estimates} with {quarter} {revenue} of {rev}",
        "{co} Q{q} EPS {eps} vs. {est} expected; {shares} {rise} {when}",
        "{co} {beat} on {profit} and {revenue}, {shares} {rise}",
        "{sym} {beat} {estimates}: {eps} a share vs. {est}",
        "{co} posts {good} {quarter} results, {profit} {beat_past} {estimates}",
        "{co} {quarter} {profit} of {eps} {beat} the {est} consensus",
        "Earnings: {co} {beat} {estimates} with {revenue} of {rev}",
        "{co} shares {rise} after {good} quarter",
    ),
    "earnings_miss": (
        "{co} {miss} {estimates} with {quarter} {revenue} of {rev}",
        "{co} Q{q} EPS {eps} vs. {est} expected; {shares} {fall} {when}",
        "{co} {miss} on {profit}, {shares} {fall}",
        "{sym} {miss} {estimates}: {eps} a share vs. {est}",
        "{co} posts {bad} {quarter} results, {profit} {miss_past} {estimates}",
        "{co} {quarter} {profit} of {eps} {miss} the {est} consensus",
        "Earnings: {co} {miss} {estimates} on {revenue} of {rev}",
        "{co} shares {fall} after {bad} quarter",
    ),
    "guidance_raise": (
        "{co} {raise} full-year {outlook} on {good} demand",
        "{co} {raise} {outlook}, sees {revenue} of {rev} to {rev_hi}",
        "{sym} {raise} {outlook} above {estimates}; {shares} {rise}",
        "{co} guides above {estimates} as orders accelerate",
        "{co} {raise} its annual profit forecast",
    ),
    "guidance_cut": (
        "{co} {cut} full-year {outlook} on {bad} demand",
        "{co} {cut} {outlook}, now sees {revenue} of {rev} to {rev_hi}",
        "{sym} {cut} {outlook} below {estimates}; {shares} {fall}",
        "{co} guides below {estimates}, citing softer orders",
        "{co} {cut} its annual profit forecast",
    ),
    "upgrade": (
        "{firm} upgrades {co} to {rating_up}, PT {pt}",
        "{co} upgraded to {rating_up} at {firm}; target raised to {pt} from {old_pt}",
        "{sym} {rises} as {firm} turns bullish, sees {upside} upside",
        "{firm} lifts {co} to {rating_up}, citing {good} momentum",
        "Upgrade: {firm} moves {co} to {rating_up} from {rating_mid}",
    ),
    "downgrade": (
        "{firm} downgrades {co} to {rating_down}, PT {pt}",
        "{co} downgraded to {rating_down} at {firm}; target cut to {pt} from {old_pt}",
        "{sym} {falls} as {firm} turns bearish, sees {upside} downside",
        "{firm} cuts {co} to {rating_down}, citing {bad} trends",
        "Downgrade: {firm} moves {co} to {rating_down} from {rating_mid}",
    ),
    "buyback": (
        "{co} announces {amount} {buyback_word}",
        "{co} board approves new {amount} {buyback_word}",
        "{sym} {rises} on {amount} {buyback_word} and dividend hike",
        "{co} to buy back up to {amount} of its shares",
    ),
    "contract_win": (
        "{co} wins {amount} contract from a major customer",
        "{co} lands multi-year deal worth {amount}",
        "{sym} {rises} after securing {amount} order",
        "{co} awarded {amount} government contract",
    ),
    "mna_target": (
        "{acq} to acquire {co} for {pps} a share in cash",
        "{co} agrees to {amount} takeover by {acq}",
        "{sym} {rises} on buyout at {premium} premium",
        "{acq} strikes deal to buy {co}; {shares} {rise}",
    ),
    "fda_approval": (
        "FDA approves {co}'s {drug} for {condition}",
        "{co} wins FDA approval for {drug}",
        "{co}'s {drug} meets primary endpoint in {trial} trial",
        "{sym} {rises} as {agency} clears {drug}",
    ),
    "lawsuit": (
        "{co} sued over alleged misconduct; {shares} {fall}",
        "{co} hit with class action lawsuit over disclosures",
        "Jury orders {co} to pay {amount} in damages",
        "{co} faces {amount} lawsuit from former partners",
    ),
    "probe": (
        "{regulator} opens {probe} into {co}",
        "{co} discloses {probe} by {regulator}; {shares} {fall}",
        "{co} receives subpoena from {regulator}",
        "{sym} {falls} on report of {regulator} {probe}",
    ),
    "recall": (
        "{co} recalls products over safety defect",
        "{co} hit by widespread outage, {shares} {fall}",
        "{sym} {falls} after production halt at key plant",
        "{co} delays flagship launch, citing supply setbacks",
    ),
    "fda_rejection": (
        "FDA rejects {co}'s {drug}, issues complete response letter",
        "{co}'s {drug} fails {trial} trial in {condition}",
        "{sym} {falls} as {agency} declines to approve {drug}",
        "{co} halts {drug} program after {trial} setback",
    ),
    # Crypto.
    "exchange_listing": (
        "{venue} to list {coin} perpetuals and spot pairs",
        "{coin} {rises} after {venue} listing announcement",
        "{venue} adds {coin} staking; {coin} {rises}",
    ),
    "etf_inflows": (
        "Spot {coin} ETFs see record inflows of {amount}",
        "{coin} {rises} as ETF inflows hit {amount} in a day",
        "Institutions pile into {coin} funds, inflows top {amount}",
    ),
    "regulatory_win": (
        "Court rules in favor of {coin} industry in landmark case",
        "{coin} {rises} as regulators approve new {coin} products",
        "Lawmakers advance clear crypto rules; {coin} {rises}",
    ),
    "network_upgrade": (
        "{coin} network upgrade goes live without a hitch",
        "{coin} {rises} as developers ship long-awaited upgrade",
    ),
    "exchange_hack": (
        "{venue} halts withdrawals after {amount} hack; {coin} {falls}",
        "Hackers drain {amount} from exchange hot wallet; {coin} {falls}",
        "{coin} {falls} after major exchange exploit",
    ),
    "etf_outflows": (
        "Spot {coin} ETFs bleed {amount} in outflows",
        "{coin} {falls} as ETF outflows reach {amount}",
        "Investors pull {amount} from {coin} funds",
    ),
    "regulatory_crackdown": (
        "{regulator} sues major crypto exchange; {coin} {falls}",
        "Crackdown: regulators move to ban {coin} trading venues",
        "{coin} {falls} as {regulator} targets crypto lenders",
    ),
    "network_outage": (
        "{coin} network suffers outage, blocks stall for hours",
        "{coin} {falls} after critical bug found in client software",
    ),
    # Routine stock news (no impact, untoned unless said).
    "analyst_note": (
        "{firm} keeps {rating_mid} rating on {co}; price target {pt}",
        "{firm} maintains {rating_mid} rating on {co}",
        "{co}: {firm} keeps {rating_mid}, sees balanced setup",
        "{firm} initiates coverage of {co} at {rating_mid}, {pt} target",
        "{firm} sets {pt} price target on {co}, rates it {rating_mid}",
        "{co} price target nudged to {pt} at {firm}; {rating_mid} kept",
        "{firm} previews {co}'s {quarter} report, stays {rating_mid}",
        "{firm} on {co}: estimates unchanged ahead of {quarter} results",
        "{co} in line with {firm} model, {rating_mid} and {pt} target reiterated",
    ),
    "conference": (
        "{co} to present at {conference}",
        "{co} executives to speak at {conference}",
        "{co} schedules {quarter} earnings call",
        "{co} to host investor day next month",
        "{co} CEO to speak at {conference} on {weekday}",
        "{co} sets date for {quarter} results release",
        "{co} to webcast fireside chat with {firm}",
        "{co} management meets investors at {conference}",
    ),
    "filing": (
        "{co} files {filing} with the SEC",
        "{co} declares regular quarterly dividend of {div} per share",
        "{co} prices senior notes offering",
        "{co} completes previously announced refinancing",
        "{co} prices {big_amount} of senior notes due {maturity}",
        "{co} files annual report; no changes to outlook",
        "{co} board declares {div} quarterly dividend",
        "{co} files {filing} detailing {quarter} operations",
        "{co} updates shelf registration with the SEC",
    ),
    "exec_change": (
        "{co} names {person} as {role}",
        "{co} appoints {person} {role}, effective next month",
        "{co} {role} to retire as planned; replacement named",
        "{co} adds {person} to board of directors",
        "{co} promotes {person} to {role}",
        "{co} hires {person} from rival as {role}",
    ),
    "product": (
        "{co} unveils new {product}",
        "{co} launches updated {product} ahead of holiday season",
        "{co} expands {product} to new markets",
        "{co} partners with startup on {product}",
        "{co} rolls out {product} in {count} countries",
        "{co} previews {product} at {conference}",
        "{co} opens new facility to support {product}",
    ),
    "opinion_bull": (
        "Is {co} a buy after its recent pullback?",
        "Why {co} could be undervalued right now",
        "3 reasons {co} is a long-term winner",
        "{co}: the bull case {analysts} are missing",
        "{co} stock: {count} catalysts to watch into {quarter} results",
        "Why {co} could hit {pt}, according to {firm}",
    ),
    "opinion_bear": (
        "Is {co} overvalued after its run?",
        "Why {co} stock could disappoint investors",
        "3 red flags in {co}'s latest numbers",
        "{co}: the bear case is getting louder",
        "{co} stock: {count} risks to watch into {quarter} results",
        "Why {co} could slide to {pt}, according to a bear at {firm}",
    ),
    # Crypto routine.
    "crypto_note": (
        "{coin} funding rates {updown} as open interest builds",
        "On-chain data: {coin} whale wallets {accumulate}",
        "{coin} miners {accumulate} as hash rate hits new high",
        "{coin} options with {amount} in open interest expire Friday",
    ),
    # Sector stories.
    "sector_up": (
        "{sector} stocks {rise} as {analysts} turn more constructive",
        "{firm} says {sector} earnings season looks {good}",
        "Investors rotate into {sector} names",
        "Industry data point to {good} demand for {sector}",
        "{firm} upgrades the {sector} group to {rating_up}",
    ),
    "sector_down": (
        "{sector} shares {fall} on fresh regulatory worries",
        "{firm} warns {sector} margins face {bad} quarter",
        "{sector} group {falls} as rate fears weigh",
        "Investors rotate out of {sector} names",
        "{firm} downgrades the {sector} group to {rating_down}",
    ),
    "sector_flat": (
        "{sector} sector: what to watch this week",
        "{sector} earnings preview: key numbers for the season",
        "{firm} keeps {rating_mid} view on the {sector} group",
    ),
    # Macro: scheduled releases and the lagging market wrap.
    "market_wrap_up": (
        "{market_cap} {rise} as {cause_up}",
        "Stocks rally; S&P 500 {rises} {pct} as {cause_up}",
        "Wall Street closes sharply higher, {index} up {pct}",
        "{market_cap} post best day in weeks as {cause_up}",
    ),
    "market_wrap_down": (
        "{market_cap} {fall} as {cause_down}",
        "Stocks sell off; S&P 500 {falls} {pct} as {cause_down}",
        "Wall Street closes sharply lower, {index} down {pct}",
        "{market_cap} suffer worst day in weeks as {cause_down}",
    ),
}

SUMMARIES: Mapping[str, tuple[str, ...]] = {
    "earnings_beat": (
        "{co} {said} {quarter} adjusted earnings of {eps} per share, above the {est} {estimates}.",
        "{co} {beat_past} {estimates} in {quarter} results, with {revenue} of {rev} against "
        "{rev_est} expected.",
        "{co} delivered a {good} quarter: EPS of {eps} topped the {est} consensus and "
        "{revenue} rose {growth} from a year earlier.",
    ),
    "earnings_miss": (
        "{co} {said} {quarter} adjusted earnings of {eps} per share, below the {est} {estimates}.",
        "{co} {miss_past} {estimates} in {quarter} results, with {revenue} of {rev} against "
        "{rev_est} expected.",
        "{co} reported a {bad} quarter: EPS of {eps} missed the {est} consensus as margins "
        "narrowed.",
    ),
    "guidance_raise": (
        "{co} now expects full-year {revenue} of {rev} to {rev_hi}, above prior guidance and "
        "{estimates}.",
        "Management {raise} its {outlook}, pointing to {good} demand and pricing.",
    ),
    "guidance_cut": (
        "{co} now expects full-year {revenue} of {rev} to {rev_hi}, below prior guidance and "
        "{estimates}.",
        "Management {cut} its {outlook}, pointing to {bad} demand and rising costs.",
    ),
    "upgrade": (
        "{firm} upgraded {co} to {rating_up} from {rating_mid} and raised its price target to "
        "{pt} from {old_pt}.",
        "Analysts at {firm} turned bullish on {co}, arguing the {good} setup is not priced in.",
    ),
    "downgrade": (
        "{firm} downgraded {co} to {rating_down} from {rating_mid} and cut its price target to "
        "{pt} from {old_pt}.",
        "Analysts at {firm} turned bearish on {co}, warning of {bad} trends ahead.",
    ),
    "buyback": (
        "{co}'s board authorized a {amount} {buyback_word}, signaling confidence in cash flow.",
        "The {amount} {buyback_word} is equal to roughly {small_pct} of the company's market "
        "value.",
    ),
    "contract_win": (
        "{co} {said} a multi-year agreement worth about {amount}.",
        "The {amount} award is one of the largest in the company's history.",
    ),
    "mna_target": (
        "{acq} agreed to buy {co} for {pps} a share, a {premium} premium to the last close.",
        "The all-cash deal values {co} at about {amount} and is expected to close next year.",
    ),
    "fda_approval": (
        "{agency} approved {drug} for {condition}, {co} {said}.",
        "{drug} met its primary endpoint in a {trial} trial in {condition}, {co} {said}.",
    ),
    "lawsuit": (
        "A lawsuit filed in {court} accuses {co} of misleading investors.",
        "{court} ordered {co} to pay {amount}; the company said it would appeal.",
    ),
    "probe": (
        "{co} {said} it received a subpoena from {regulator} and is cooperating.",
        "{regulator} is examining {co}'s accounting and sales practices, people familiar said.",
    ),
    "recall": (
        "{co} {said} it would recall affected units, taking a charge in the quarter.",
        "The disruption is expected to weigh on {quarter} results, {co} {said}.",
    ),
    "fda_rejection": (
        "{agency} issued a complete response letter for {drug} in {condition}, {co} {said}.",
        "{drug} failed to meet its primary endpoint in a {trial} study, {co} {said}.",
    ),
    "exchange_listing": (
        "{venue} {said} it will list {coin} trading pairs, widening access for retail buyers.",
    ),
    "etf_inflows": ("Spot {coin} funds took in {amount}, the most in weeks, data showed.",),
    "regulatory_win": ("The decision removes a key overhang for {coin}, traders said.",),
    "network_upgrade": ("The upgrade cuts fees and raises throughput, developers said.",),
    "exchange_hack": ("{venue} paused withdrawals after attackers drained {amount} in {coin}.",),
    "etf_outflows": ("Investors pulled {amount} from spot {coin} funds, data showed.",),
    "regulatory_crackdown": ("{regulator} accused the firms of operating unregistered venues.",),
    "network_outage": ("Validators scrambled to restart the chain after blocks stopped.",),
    "analyst_note": (
        "{firm} kept its {rating_mid} rating on {co} and a {pt} price target.",
        "{firm} said its view on {co} is unchanged at current levels.",
    ),
    "conference": (
        "Management will discuss strategy and answer questions from investors.",
        "{co} will webcast the presentation on its investor relations site.",
    ),
    "filing": (
        "The filing was made in the ordinary course of business.",
        "{co} {said} the payment is in line with its regular schedule.",
    ),
    "exec_change": (
        "{person} joins from a rival and will report to the chief executive.",
        "The transition was previously announced, {co} {said}.",
    ),
    "product": (
        "{co} {said} the new {product} will be available in the coming weeks.",
        "The launch extends {co}'s {product} to more customers.",
    ),
    "opinion_bull": ("{co} trades at a discount to peers despite {good} growth.",),
    "opinion_bear": ("{co} looks stretched after a run, and {bad} margins are a risk.",),
    "crypto_note": ("Traders watched derivatives positioning closely.",),
    "sector_up": (
        "{firm} {said} the {sector} group faces a {good} backdrop into earnings.",
        "Buyers returned to {sector} names as {analysts} raised estimates.",
    ),
    "sector_down": (
        "{firm} {said} the {sector} group faces a {bad} backdrop into earnings.",
        "Sellers hit {sector} names as {analysts} cut estimates.",
    ),
    "sector_flat": (
        "Investors weighed the outlook for {sector} names ahead of earnings.",
        "{firm} {said} its view on {sector} is unchanged.",
    ),
    "market_wrap_up": (
        "{market_cap} closed higher, with the {index} up {pct} as {cause_up}.",
        "Buyers returned after {cause_up}; {yields} {updown}.",
    ),
    "market_wrap_down": (
        "{market_cap} closed lower, with the {index} down {pct} as {cause_down}.",
        "Sellers took control after {cause_down}; {yields} {updown}.",
    ),
}

DETAILS: Mapping[str, tuple[str, ...]] = {
    "positive": (
        "{shares} {rise} {pct} {when}.",
        "{analysts} {cheer} the results.",
        "{firm} called the update a clear positive.",
        "The company also reaffirmed its long-term targets.",
    ),
    "negative": (
        "{shares} {fall} {pct} {when}.",
        "{analysts} {punish} the news.",
        "{firm} called the update a clear negative.",
        "The company declined to comment beyond its statement.",
    ),
    "context": (
        "{co} will discuss the update on a conference call.",
        "{shares} last closed at {price}.",
        "{firm} has covered {co} for years.",
        "A company spokesperson declined to comment further.",
    ),
    "neutral": (
        "{co} did not change its outlook.",
        "The company's shares last closed at {price}.",
        "Terms of the arrangement were kept private.",
    ),
}

# Scheduled macro releases by the sign of their news for stocks: (kind, headline, summary).
MACRO: Mapping[str, tuple[tuple[str, str, str], ...]] = {
    "up": (
        (
            "fed",
            "Fed cuts rates by 25 basis points, citing cooling inflation",
            "{fed} lowered its benchmark rate and signaled room for more easing.",
        ),
        (
            "fed",
            "Fed holds rates, signals cuts ahead",
            "{fed} kept rates unchanged but said inflation is moving toward target.",
        ),
        (
            "cpi",
            "CPI rises just {cpi} in {month}, cooler than expected",
            "Economists had expected {cpi_est}; {yields} fell on the release.",
        ),
        (
            "jobs",
            "Payrolls rise {payrolls} in {month}, wage growth eases",
            "Economists had forecast {payrolls_est}; the jobless rate held at {unemp}.",
        ),
        (
            "gdp",
            "U.S. GDP grows at {gdp} pace, beating forecasts",
            "Economists had expected {gdp_est}; consumer spending held up.",
        ),
        (
            "oil",
            "Oil falls as OPEC+ signals higher output",
            "Lower crude prices ease cost pressures for airlines and consumers.",
        ),
        (
            "pmi",
            "ISM manufacturing index rebounds to {pmi}",
            "A reading above 50 signals expansion; new orders improved.",
        ),
    ),
    "down": (
        (
            "fed",
            "Fed raises rates by 25 basis points, signals more to come",
            "{fed} lifted its benchmark rate and warned inflation remains too high.",
        ),
        (
            "fed",
            "Fed minutes show officials worried about sticky inflation",
            "{fed} saw upside risks to prices, the minutes showed.",
        ),
        (
            "cpi",
            "CPI jumps {cpi} in {month}, hotter than expected",
            "Economists had expected {cpi_est}; {yields} jumped on the release.",
        ),
        (
            "jobs",
            "Payrolls miss at {payrolls}; unemployment rises to {unemp}",
            "Economists had forecast {payrolls_est}; hiring slowed across sectors.",
        ),
        (
            "gdp",
            "U.S. GDP slows to {gdp} pace, below forecasts",
            "Economists had expected {gdp_est}; business investment weakened.",
        ),
        (
            "oil",
            "Oil spikes on supply disruption fears",
            "Higher crude prices threaten to rekindle inflation.",
        ),
        (
            "pmi",
            "ISM manufacturing index falls to {pmi}, signaling contraction",
            "A reading below 50 signals contraction; new orders slumped.",
        ),
    ),
    "flat": (
        (
            "fed",
            "Fed holds rates steady, stays data dependent",
            "{fed} said future decisions will depend on incoming data.",
        ),
        (
            "cpi",
            "CPI rises {cpi} in {month}, in line with forecasts",
            "Economists had expected {cpi_est}.",
        ),
        (
            "jobs",
            "Weekly jobless claims come in at {claims}",
            "Claims were little changed from the prior week.",
        ),
        (
            "gdp",
            "Second estimate of GDP confirms {gdp} growth",
            "The revision was in line with expectations.",
        ),
        (
            "oil",
            "Oil steady ahead of OPEC+ meeting",
            "Traders awaited signals on production quotas.",
        ),
        ("pmi", "Services PMI little changed at {pmi}", "The reading was in line with forecasts."),
    ),
}
MACRO_HOURS: Mapping[str, float] = {"fed": 18.0, "cpi": 12.5, "jobs": 12.5, "gdp": 12.5,
                                    "oil": 14.5, "pmi": 14.0}  # fmt: skip
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip

# -- social media ------------------------------------------------------------------------------

# Organic post templates by intent. ``{t}`` is a ticker as written ($AAPL or AAPL).
POSTS: Mapping[str, tuple[str, ...]] = {
    "bull": (
        "{t} to the moon {e}",
        "loaded up on {t} calls, lets go {e}",
        "{t} looking strong here, adding to my position {e}",
        "diamond hands on {t} {e}",
        "BTFD on {t}, thank me later {e}",
        "{t} breaking out, calls printing {e}",
        "bullish on {t} into next week {e}",
        "{t} is a no brainer at these levels",
        "bought the dip in {t} {e}",
        "{t} chart looks amazing, higher highs {e}",
        "shorts getting squeezed on {t} lol {e}",
        "{t} undervalued af imo {e}",
        "holding {t} forever, not selling {e}",
        "{t} gonna rip tomorrow {e}",
    ),
    "bear": (
        "{t} is cooked {e}",
        "bagholders of {t} in shambles {e}",
        "bought puts on {t}, this thing is overvalued",
        "{t} going to zero {e}",
        "sold all my {t}, im out {e}",
        "{t} chart is a waterfall {e}",
        "bearish on {t} here, lower highs {e}",
        "{t} longs getting rekt {e}",
        "dead money {t} {e}",
        "{t} is a bubble, take profits while you can",
        "took the L on {t} {e}",
        "{t} guidance is gonna disappoint, mark my words {e}",
    ),
    "neutral": (
        "anyone watching {t} today?",
        "what's everyone's price target on {t}?",
        "{t} earnings date?",
        "{t} volume kinda quiet today",
        "thoughts on {t} vs {t2}?",
        "holding {t} and {t2}, nothing fancy",
        "{t} options chain is wild today",
        "new to investing, is {t} a good long term hold?",
        "{t} chart for anyone interested",
        "watching {t} for an entry, no position yet",
    ),
    # Sarcasm: the words read positive, the true tone is negative.
    "sarcasm": (
        "love losing money on {t} 🙃",
        "great, another red day for {t}, just great 🙃",
        "{t} to the moon they said. yeah right",
        "bought {t} at the top, what could go wrong 🤡",
        "thanks a lot {t}, my portfolio loves you /s",
        "oh great {t} dumping again, best investment ever 🙃",
    ),
    # Informed chatter ahead of an event: suggestive, not explicit.
    "informed_up": (
        "hearing good things about {t} numbers this quarter, loading up {e}",
        "channel checks on {t} look really strong, something is brewing {e}",
        "unusual call buying in {t}, someone knows something {e}",
        "{t} about to surprise a lot of people to the upside {e}",
    ),
    "informed_down": (
        "hearing {t} numbers are gonna be ugly, bought puts {e}",
        "channel checks on {t} look weak, getting out {e}",
        "unusual put buying in {t}, someone knows something {e}",
        "{t} about to disappoint, i'm out {e}",
    ),
    # Echo of a story: reacting to the news.
    "echo_up": (
        "{t} {headline_word} 🔥 called it",
        "wow {t} news is huge {e}",
        "{t} earnings blowout, calls printing {e}",
        "did you see {t}?? bullish {e}",
        "{t} after hours ripping {e}",
        "told you all {t} was undervalued {e}",
    ),
    "echo_down": (
        "{t} news is ugly {e}",
        "{t} bagholders in shambles after that headline {e}",
        "rip {t} longs {e}",
        "{t} after hours dumping, glad I sold {e}",
        "did you see {t}?? bearish {e}",
        "{t} guidance disappointing, selling {e}",
    ),
    "echo_flat": (
        "{t} news out, not sure what to make of it",
        "{t} headline, meh",
        "anyone reading the {t} news?",
    ),
    "pump": (
        "{t} IS ABOUT TO EXPLODE 🚀🚀🚀 GET IN NOW",
        "{t} 100x incoming, last chance to buy {e}",
        "dont miss {t}!!! squeeze of the century 🚀💎🙌",
        "{t} going parabolic, load up before its too late 🚀🚀",
        "whales accumulating {t} 🐋 moon mission starts now 🚀",
        "{t} 🚀🚀🚀 to the moon, shorts will be rekt",
    ),
    "bot": (
        "🔥 FREE daily picks 🔥 {tags} join our group now, link in bio",
        "{tags} top movers today 📈 get real-time alerts, DM for access",
        "🚨 ALERT 🚨 {tags} unusual activity detected, follow for more",
        "{tags} 💰 our members made 300% this month, join free",
    ),
}

EMOJIS_UP = ("🚀", "🚀🚀", "💎🙌", "🔥", "📈", "🐂", "🤑", "💰", "🌙", "")
EMOJIS_DOWN = ("📉", "🐻", "💀", "😭", "🩸", "🤦", "🔴", "")
EMOJIS_FLAT = ("", "", "👀", "🤔")
ECHO_WORDS = ("news", "earnings", "headline", "update", "print")
FAKE_TICKERS = ("ZVXL", "QMRT", "PNNY", "GLXO", "MOONX", "FRGE", "BLZR", "NOVQ")
HANDLE_ADJ = (
    "Bullish", "Theta", "Gamma", "Degen", "Value", "Quiet", "Swing", "Dividend", "Chart",
    "Options", "Macro", "Retail", "Patient", "Tendie", "Diamond", "Paper", "Contrarian", "Momo",
)  # fmt: skip
HANDLE_NOUN = (
    "Trader", "Ape", "Bear", "Owl", "Capital", "Hands", "Investor", "Wolf", "Guy", "Queen",
    "Fund", "Degen", "Analyst", "Hodler", "Shark", "Panda",
)  # fmt: skip
BOT_HANDLES = ("StockAlerts", "PennyPicks", "TopMovers", "AlertBot", "SignalKing", "PumpWatch")
PUMP_HANDLES = ("moonshot", "rocketman", "gem_hunter", "100xcalls", "next_big_thing")
PLATFORMS = ("Chirper", "TickerTalk", "StockForum")


class Slots(dict[str, str]):
    """The fields of one template: given values, then tiered words and synonyms on demand.

    Each field drawn on demand is fixed at its first use, so a field repeated in a template
    reads the same word twice. Choices consume ``uniforms`` in order (cycled if exhausted).
    """

    def __init__(
        self, values: Mapping[str, str], tier: int, uniforms: npt.NDArray[np.float64]
    ) -> None:
        super().__init__(values)
        self.tier = tier
        self.uniforms = uniforms.tolist()
        self.used = 0

    def pick(self, options: Sequence[str]) -> str:
        u = self.uniforms[self.used % len(self.uniforms)]
        self.used += 1
        return options[int(u * len(options))]

    def __missing__(self, key: str) -> str:
        if key in TIERED:
            word = self.pick(TIERED[key][self.tier])
        elif key in SYNONYMS:
            word = self.pick(SYNONYMS[key])
        else:
            raise KeyError(key)
        self[key] = word
        return word


def fill(template: str, slots: Slots) -> str:
    """Fill one template and capitalise its first letter (a headline or a sentence)."""
    text = template.format_map(slots)
    return text[:1].upper() + text[1:]


def short_name(name: str) -> str:
    """Return how headlines name a company or asset: "Apple Inc." reads "Apple"."""
    if " / " in name:
        return name.split(" / ")[0]
    out = name
    if out.startswith("The "):
        out = out[4:]
    for suffix in (" Class A", " Class B", ", Inc.", " Inc.", " Corporation", " Company",
                   " Platforms", " & Co.", " Trust", ".com"):  # fmt: skip
        if out.endswith(suffix):
            out = out[: -len(suffix)]
    return out


def ticker(symbol: str) -> str:
    """Return the ticker as people write it: ``BTC/USD`` is ``BTC``."""
    return symbol.split("/")[0]
