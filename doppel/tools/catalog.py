"""`catalog_lookup`: products and services from the owner's imported price lists and catalogs,
with their variants and prices, cited.

Items are the bound rows of the agent's content (doppel.language.bound: a catalog export's
product line "Name — Category. Sizes: 8 oz $24.00, 12 oz $32.00", a price-list row), found by
the full-text and vector search like any passage and ranked by how strongly the customer's
words name the item (`subject_score`), never by a price merely occurring near them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from doppel.knowledge.index import Passage
from doppel.language.bound import Unit, WordWeights, claim_words, parse_units, subject_score
from doppel.language.facts import extract_facts
from doppel.tools.base import NoSettings, Tool, ToolContext, ToolResult

__all__ = ["CatalogLookup"]


class CatalogArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=2, max_length=200,
                       description="What the customer is looking for, in their words.")
    max_price: float | None = Field(None, gt=0, description="Only items up to this price.")
    sure: bool = Field(False, description="The customer asked outright whether it is sold: "
                       "say so when the price list does not have it.")


_ASKS = re.compile(
    r"\b(do|does|d'?|did)\s*(you|u|ya|y'all|the shop|the store)\s+(guys\s+)?"
    r"(sell|carry|stock|still (sell|have|make)|make|have any|do any|offer any|do|offer|rent|"
    r"hire out)\b|"
    r"\b(in stock|out of stock|back in stock)\b|"
    r"\bwhat\s+(kinds?|sorts?|types?|flavou?rs?|sizes?|colou?rs?|scents?|options?)\b.*"
    r"\b(sell|carry|have|come in|stock|make|got)\b|"
    r"\b(under|below|less than|cheaper than)\s*[$£€]\s?\d", re.I)
_NOISE = re.compile(
    r"\b(do|does|did|you|u|ya|guys|sell|carry|stock|still|have|has|any|anything|some|got|the|"
    r"a|an|in|of|for|what|which|kinds?|sorts?|types?|options?|sizes?|colou?rs?|flavou?rs?|"
    r"scents?|styles?|come|comes|is|are|there|please|"
    r"pls|hi|hey|hello|me|i|we|my|looking|want|need|like|would|could|can|under|below|less|"
    r"than|cheaper|price|prices|cost|much|how|back|out|offer|make)\b|[$£€]\s?\d[\d.,]*|[?!.,]",
    re.I)
_OBJECT = re.compile(r"\b(?:sell|carry|stock|rent|hire out|have any|do any|make any|got any|"
                     r"(?<=you )do|"
                     r"(?<=u )do|offer)\s+(?:a |an |the |"
                     r"some |any )?([^?!.,;]{2,60}?)\s*(?:[?!.,;]|$| for (?!a |an |the )|"
                     r" in (?:stock|store)| under )", re.I)
_OUTRIGHT = re.compile(r"\b(do|does)\s*(you|u|ya)\s+(guys\s+)?(sell|carry|stock)\b", re.I)
_UNDER = re.compile(r"\b(?:under|below|less than|cheaper than|max(?:imum)?)\s*[$£€]?\s?"
                    r"(\d[\d,]*(?:\.\d\d)?)", re.I)


def _amount(value: str) -> float | None:
    m = re.search(r"\d[\d,]*(?:\.\d+)?", value)
    return float(m.group(0).replace(",", "")) if m else None


def _priced(u: Unit) -> bool:
    return u.structured and bool(u.subject) and bool(u.cells_with("money"))


class CatalogLookup(Tool):
    name = "catalog_lookup"
    description = ("Look products and services up in the business's own price lists and "
                   "catalog: whether it sells something, its variants and prices.")
    Arguments = CatalogArguments
    Settings = NoSettings
    default = True
    examples = ("do you sell gift cards?", "do you carry size 12 wetsuits", "is the lavender "
                "candle back in stock?", "what flavours do you have?", "anything under $20?",
                "what sizes does the mug come in")

    def wants(self, message: str) -> bool:
        return bool(_ASKS.search(message))

    def fill(self, message: str, now: dt.datetime, known: Mapping[str, Any]
             ) -> dict[str, Any]:
        out = dict(known)
        out["sure"] = bool(_OUTRIGHT.search(message))
        # What was asked for: the object of "do you sell …" when there is one ("going camping
        # next month, do you sell a hand grinder?" asks for a hand grinder)
        m = _OBJECT.search(message)
        query = re.sub(r"\s+", " ", _NOISE.sub(" ", m.group(1) if m else message)).strip()
        if query:
            out["query"] = query
        if (m := _UNDER.search(message)) is not None:
            out["max_price"] = float(m.group(1).replace(",", ""))
            out.setdefault("query", "items")
        return out

    def ask(self, missing: Sequence[str], settings: BaseModel) -> str:
        return "Which product or service are you looking for?"

    async def run(self, ctx: ToolContext, args: CatalogArguments, settings: NoSettings
                  ) -> ToolResult | None:
        # "anything under $20?": the price lists, whatever the other words
        query = f"{args.query} price" if args.max_price is not None else args.query
        passages = list(ctx.search(query, 20 if args.max_price is not None else 12))
        items = [(u, p) for p in passages for u in parse_units(p.text, p.heading) if _priced(u)]
        if not items:
            return None
        weights = WordWeights([u for u, _ in items])
        words = claim_words(args.query)
        scored = [(subject_score(u, words, weights), i, u, p) for i, (u, p) in enumerate(items)]
        best = max((s for s, *_ in scored), default=0.0)
        if args.max_price is None and best <= 0:
            return None  # nothing the customer named: the content's other answers may know
        if args.max_price is None and words:
            # The item must carry most of what was named that any item names: "a punch card
            # for coffee" is not the drip coffee, "pottery wheels or kilns" not the "Wheel 101"
            # class; "going camping, do you sell a hand grinder" is the hand grinder.
            top = max(scored, key=lambda x: x[0])[2]
            total = sum(weights(w) for w in words) or 1.0
            if sum(weights(w) for w in words & _names(top)) / total < 0.6:
                if args.sure:
                    return ToolResult("ok", f"I couldn't find {args.query} in {ctx.agent_name}'s "
                                      f"price list.{ctx.contact}", (), {"items": []})
                return None
        floor = 0.75 * best if best > 0 else -1.0
        picked: list[tuple[Unit, Passage]] = []
        seen: set[str] = set()
        for s, _, u, p in sorted(scored, key=lambda x: (-x[0], x[1])):
            if s < floor or u.subject.lower() in seen:
                continue
            if args.max_price is not None:
                prices = [a for c in u.cells_with("money") if (a := _amount(c.value)) is not None]
                if not prices or min(prices) > args.max_price:
                    continue
            seen.add(u.subject.lower())
            picked.append((u, p))
            if len(picked) == 5:
                break
        if not picked:
            if args.max_price is None:
                return None
            return ToolResult("ok", f"I couldn't find anything under {args.max_price:g} in "
                              f"{ctx.agent_name}'s price list.", (), {"items": []})
        cited: list[Passage] = []
        for _, p in picked:
            if p not in cited:
                cited.append(p)
        parts = [f"{u.subject.strip(' :')} ({_variants(u, words)})" for u, _ in picked]
        marks = "".join(f"[{i + 1}]" for i in range(len(cited)))
        text = ((f"Yes — {parts[0]}." if len(parts) == 1 else
                 "Here's what I found: " + "; ".join(parts) + ".") + f" {marks}")
        return ToolResult("ok", text, tuple(u.text for u, _ in picked),
                          {"items": [{"name": u.subject, "prices": [c.value for c in
                                                                    u.cells_with("money")]}
                                     for u, _ in picked]}, passages=tuple(cited))


def _names(u: Unit) -> set[str]:
    """The words that name an item: its name, its category, its variants ("Fig Leaf / 8 oz")."""
    return set(u.subject_words | claim_words(u.subject)
               | claim_words(" ".join(c.header for c in u.cells)))


def _variants(u: Unit, words: frozenset[str] = frozenset()) -> str:
    cells = u.cells_with("money")
    # "what sizes does the fig leaf candle come in": the Fig Leaf variants, not every scent
    asked = [c for c in cells if claim_words(c.header) & words]
    cells = asked or cells
    symbol = _symbol(u)
    out = []
    for c in cells[:6]:
        facts = extract_facts(c.header, names=False)
        label = c.header if c.header and not any(f.kind == "money" for f in facts) else ""
        # a price column's own name is no label ("price_usd", "Price"): "Smile Club price"
        # keeps "Smile Club"
        label = re.sub(r"(?i)\b(price|prices|cost|usd|gbp|eur|cad|aud|nzd|amount)\b", " ",
                       label.replace("_", " ")).strip(" -:")
        value = c.value
        if symbol and not re.search(r"[$£€]", value) and re.fullmatch(
                r"\d[\d,]*(\.\d{1,2})?", value.strip()):
            value = symbol + value.strip()  # "395.00" under price_usd is $395.00
        out.append(f"{' '.join(label.split())} {value}".strip())
    return ", ".join(out)


_SYMBOLS = {"usd": "$", "cad": "$", "aud": "$", "nzd": "$", "gbp": "£", "eur": "€"}


def _symbol(u: Unit) -> str:
    """The currency the row's prices are in: a column's code ("price_usd") or a symbol one of
    its amounts shows; "" when none says."""
    for c in u.cells:
        header = c.header.lower().replace("_", " ")
        for code, sign in _SYMBOLS.items():
            if re.search(rf"\b{code}\b", header):
                return sign
        if m := re.search(r"[$£€]", c.value):
            return m.group(0)
    return ""

