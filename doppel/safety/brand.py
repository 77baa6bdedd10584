"""Brand policy: the agent never praises or recommends a competitor the owner named.

Mentioning a competitor neutrally is fine ("Rival Bakery is on Main Street", "I can't speak for
Rival Bakery, but our rye is baked daily"); praise, recommendation and "they're better/cheaper"
are not. Only sentences that name a competitor are judged, by two detectors: praise and
recommendation cues near the name (rules), and a small classifier on the sentence's MiniLM
vector trained from doppel's labelled praise/neutral examples.
"""

from __future__ import annotations

import re
from typing import Any

from doppel.safety.base import ShieldContext, SyncShield, Verdict

_PRAISE = re.compile(
    r"\b(best|better|great(est)?|excellent|amazing|awesome|fantastic|wonderful|superb|"
    r"outstanding|brilliant|incredible|lovely|delicious|tastier|fresher|nicer|cheaper|faster|"
    r"superior|top[- ]notch|top|favou?rite|perfect|phenomenal|unbeatable|impressive|"
    r"world[- ]class|first[- ]rate|stellar|terrific|gorgeous|divine|heavenly|beats?|"
    r"outshines?|outperforms?|ahead of|worth (it|a visit|the trip|checking)|"
    r"can'?t go wrong|blow(s)? us away|the (real )?deal|gem|love|loved|adore|"
    r"high(er|est)[- ]quality|more (affordable|reliable|experienced|professional|authentic)|"
    r"well worth|second to none|the place to go|go-to)\b", re.IGNORECASE)
_RECOMMEND = re.compile(
    r"\b(recommend(ed|s)?|suggest(ed|s)?|try|check (them )?out|go (to|with|for)|head (over )?to|"
    r"visit|pop (into|over to|by)|consider|choose|pick|switch to|you'?d be better off|"
    r"better off|your best bet|prefer|opt for|give (them|.{0,30}) a (try|go|shot)|look into|"
    r"swing by|stop by)\b", re.IGNORECASE)
_DECLINE = re.compile(
    r"\b(can'?t|cannot|won'?t|don'?t|do not|not able to|unable to|wouldn'?t)\s+"
    r"(really\s+)?(speak|comment|compare|say|vouch|judge|recommend|rank|review)\b|"
    r"\bnot affiliated\b|\bno (affiliation|connection)\b|\bnot (better|as good)\b",
    re.IGNORECASE)
PRAISE_THRESHOLD = 0.5


def _name_pattern(name: str) -> re.Pattern[str]:
    # "Crumb & Co" also matches "Crumb and Co", "crumb&co"; possessives are allowed.
    parts = [re.escape(p) for p in re.split(r"\s*(?:&|\band\b)\s*|\s+", name.strip()) if p]
    joined = r"\s*(?:&|and|\+)?\s*".join(parts)
    return re.compile(rf"(?<!\w){joined}(?:'s|’s)?(?!\w)", re.IGNORECASE)


class BrandShield(SyncShield):
    name = "brand"
    cheap = False
    cheap_when_warm = True  # a regex per competitor; the classifier only when one is named

    def __init__(self, models_for: Any) -> None:
        self.models_for = models_for

    def inspect(self, ctx: ShieldContext) -> Verdict:
        named = [c for c in ctx.policy.competitors if _name_pattern(c).search(ctx.text)]
        if not named:
            return Verdict(self.name)
        declined = bool(_DECLINE.search(ctx.text))
        cue = bool(_PRAISE.search(ctx.text) or _RECOMMEND.search(ctx.text))
        p = self.models_for().praise_prob(ctx.text, ctx.embedding())
        threshold = ctx.policy.threshold("brand", PRAISE_THRESHOLD)
        # Rules and classifier must agree, unless one of them is very sure: the rules alone
        # would catch "I can't say whether Rival is better", the classifier alone misses
        # unusual phrasings.
        praise = (cue and p >= threshold * 0.6) or p >= min(0.95, threshold + 0.3)
        if declined and p < min(0.95, threshold + 0.3):
            praise = False
        scores = {"praise": round(p, 4), "cue": float(cue)}
        if praise:
            return Verdict(self.name, "block", ["competitor"], scores,
                           f"praises or recommends {', '.join(named)}")
        return Verdict(self.name, scores=scores)
