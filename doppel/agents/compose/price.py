"""Price answers: the row the question names, in the column it names, with what it includes;
a sentence of several prices cut to the one asked about."""

from __future__ import annotations

import dataclasses
import re

from doppel.agents.compose.base import (
    FIGURE,
    QUESTION,
    Ask,
    Composed,
    Found,
    capital,
    clean_sentence,
    coverage,
    finish,
    join_and,
    lower_header,
    with_article,
)
from doppel.language.bound import (
    Unit,
    WordWeights,
    claim_words,
    subject_score,
)
from doppel.language.facts import extract_facts
from doppel.language.quantity import excludes
from doppel.language.wants import carries
from doppel.language.words import stem

_BIGGEST = re.compile(r"\b(biggest|largest|big|large|bigger|larger|max|maximum|full[- ]size)\b",
                      re.I)


_SMALLEST = re.compile(r"\b(smallest|small|smaller|little|mini|tiny|travel)\b", re.I)


_INCLUDES = re.compile(r"\b(notes?|includes?|included|inclusions?|what'?s included|details|"
                       r"description)\b", re.I)


_DURATION_HEADER = re.compile(r"\b(duration|length|time|minutes|mins?|hours?)\b", re.I)


_GENERIC_HEADERS = re.compile(r"^(price|prices|cost|rate|fee|amount|variant price|price[_ ]?"
                              r"(usd|eur|gbp)?|usd|eur|gbp|\$)$", re.I)


# Words that say when, not what: "on a Saturday morning" names no row
WHEN_WORDS = frozenset(stem(w) for w in "morning afternoon evening night tonight weekend".split())


_PRICE_COLUMN = re.compile(r"\b(price|cost|fee|rate|charge|amount)\b", re.I)


def price_answer(ask: Ask, found: list[Found], weights: WordWeights) -> Composed | None:
    priced = [f for f in found if f.unit.structured and f.unit.cells_with("money")]
    if not priced or not ask.words:
        return _prose_with(ask, found, weights, "money")
    scored = [(subject_score(f.unit, ask.words, weights), f) for f in priced]
    best = max(s for s, _ in scored)
    if best <= 0:
        return _prose_with(ask, found, weights, "money")
    # Rows named about equally well (the tie-break on a subject's extra words is worth 0.01
    # a word) are told apart by how much of the question they carry, then by that tie-break:
    # "the small travel tin candle" is the candle's row, not the "Candle Care Kit".
    asked = price_clause_words(ask, last=True)  # "…as for dogs? how much is it for a cat"
    # One dish on two pages (the eat-in menu and the takeaway price list): the question's
    # words that only a page's title or heading carries ("when we eat in") choose the page,
    # among rows named about as well (half the best subject score or more).
    plausible = [(s, f) for s, f in scored if s >= best / 2]
    paged = {id(f): coverage(asked, f.unit.words | f.unit.subject_words | _page_words(f),
                             weights) for _, f in plausible}
    if max(paged.values()) > max(paged[id(f)] for s, f in plausible if s >= best - 0.05) + 0.1:
        scored = [(s, f) for s, f in plausible if paged[id(f)] >= max(paged.values()) - 1e-9]
        best = max(s for s, _ in scored)
    near = [(s, f) for s, f in scored if s >= best - 0.05]
    carried: dict[str, float] = {}  # a product split over chunks carries what its parts do
    for _, f in near:
        key = f.unit.subject if f.unit.kind == "product" else f.unit.text
        carried[key] = max(carried.get(key, 0.0), coverage(
            asked, f.unit.words | f.unit.subject_words | _page_words(f), weights))
    most = max(carried.values())
    near = [(s, f) for s, f in near if carried[f.unit.subject if f.unit.kind == "product"
                                              else f.unit.text] >= most - 1e-9]
    best = max(s for s, _ in near)
    top = [f for s, f in near if s >= best - 1e-9]
    # The row must be about most of what was asked: "the candle making class" is not the
    # "Candle Care Kit" because both say "candle". Otherwise a sentence with a price may be.
    cover = max(coverage(price_clause_words(ask, numbers=True), f.unit.words
                         | f.unit.subject_words | _page_words(f), weights)
                for f in top)
    if cover < PRICE_COVERAGE:
        return _prose_with(ask, found, weights, "money")
    # The same row found twice (a CSV record and a table) is one answer.
    unique: list[Found] = []
    for f in top:
        if all(f.unit.text != g.unit.text for g in unique):
            unique.append(f)
    # One product split over two chunks is one row: its variants together.
    merged: dict[str, Found] = {}
    for f in unique:
        if f.unit.kind == "product" and f.unit.subject in merged:
            g = merged[f.unit.subject]
            merged[f.unit.subject] = Found(dataclasses.replace(
                g.unit, cells=g.unit.cells + f.unit.cells), g.passage, min(g.rank, f.rank))
        else:
            merged.setdefault(f.unit.subject if f.unit.kind == "product" else f.unit.text, f)
    unique = list(merged.values())
    # Rows of one subject that differ in another column ("Adult Essentials · Dog", "… · Cat"):
    # the one whose other cells carry the question's words ("for a cat").
    if len(unique) > 1:
        covers = [coverage(asked, f.unit.words | f.unit.subject_words, weights)
                  for f in unique]
        unique = [f for f, c in zip(unique, covers, strict=True) if c >= max(covers) - 1e-9]
    if len(unique) > 1:  # still tied: the customer's own words ("my dog is 9") tell them apart
        covers = [coverage(ask.words, f.unit.words | f.unit.subject_words, weights)
                  for f in unique]
        unique = [f for f, c in zip(unique, covers, strict=True) if c >= max(covers) - 1e-9]
    # Rows the question names equally well: the best-ranked passage's (retrieval saw the
    # whole question); rows of one table that tie are listed, at most three, each with what
    # tells it from the others.
    first = min(f.rank for f in unique)
    unique = [f for f in unique if f.rank == first]
    if len(unique) > 3:
        return None  # the question names no row well enough to pick one
    apart = _distinguish([f.unit for f in unique])
    return finish("price", [(price_sentence(f.unit, ask, q), f.passage)
                            for f, q in zip(unique, apart, strict=True)])


def _page_words(f: Found) -> frozenset[str]:
    return claim_words(f"{f.passage.title} > {f.passage.heading}")


def price_clause_words(ask: Ask, last: bool = False, numbers: bool = False) -> frozenset[str]:
    """The words of the part of the question that asks the price, without the customer's
    own circumstances or quantities: in "my dog is 9. how much is the senior plan?" the plan
    is what a stated price must be bound to; "a 65 lb lab" is checked by its bounds
    (doppel.language.quantity), not as a word the row must carry. With `last`, only the last
    part that asks it ("is it the same price as for dogs? how much is it for a cat?": the
    cat), to choose between rows that differ in it. With `numbers`, the asking part's own
    numbers stay ("a large 16 oz latte": the 16 oz row)."""
    parts = [p for p in re.split(r"(?<=[?.!])\s+|\s+[-–—]\s+", ask.text) if p.strip()]
    asking = [p for p in parts if FIGURE.search(p)]
    # "how much does your apprentice charge an hour? trying to keep it cheap": the part
    # that is a question asks; the remark after it does not
    asking = [p for p in asking if p.rstrip().endswith("?") or QUESTION.match(p)] or asking
    asking = asking[-1:] if last else asking
    words = claim_words(" ".join(asking)) if asking and len(asking) < len(parts) else ask.words
    if ask.message and ask.message != ask.text:  # a follow-up: "… as a starter? and the main?"
        words = words | claim_words(ask.message)
    if numbers:
        return frozenset(words & ask.words) or ask.words
    kept = frozenset(w for w in words & ask.words if not w[:1].isdigit()) - WHEN_WORDS
    return periods(kept or ask.words)  # "hourly" is the row's "each hour"


def _distinguish(units: list[Unit]) -> list[str]:
    """For rows listed together, the values of their other columns that differ ("Dog",
    "Cat"), so the customer can tell which price is which; "" for a single row."""
    if len(units) < 2:
        return [""] * len(units)
    out = []
    for u in units:
        values = [c.value for c in u.cells
                  if c.value != u.subject and "money" not in c.kinds()
                  and any(c.value not in {d.value for d in v.cells} for v in units if v is not u)]
        out.append(", ".join(values[:2]))
    return out


def price_sentence(unit: Unit, ask: Ask, qualifier: str = "") -> str:
    money = unit.cells_with("money")
    # The words that name the row ("Piercing", "Nostril") choose no column: "piercing fee
    # only" is not asked by "how much is a nostril piercing with jewelry".
    naming = frozenset().union(*(claim_words(c.value) for c in unit.cells
                                 if "money" not in c.kinds() and len(c.value) <= 60))
    said = ask.words | claim_words(ask.message or ask.text)  # "an hour": the "per hour" column
    # "a full one, not the half": the half is no column asked for
    said = said - frozenset().union(*(claim_words(m.group(1)) for m in _NOT_THE.finditer(
        ask.message or ask.text)))
    asked = periods(said - naming) or periods(said)
    overlap = [len(_header_words(c.header) & periods(said)) for c in money]
    best = max(overlap, default=0)
    chosen = [c for c, o in zip(money, overlap) if o == best] if best else money
    if len(chosen) > 1:  # tied: told apart by the words that do not name the row
        apart = [len(_header_words(c.header) & asked) for c in chosen]
        chosen = [c for c, o in zip(chosen, apart) if o == max(apart)]
    if len(chosen) > 1 and (_BIGGEST.search(ask.text) or _SMALLEST.search(ask.text)):
        sized = [(c, n) for c in chosen if (n := _size(c.header)) is not None]
        if sized:
            pick = max if _BIGGEST.search(ask.text) else min
            chosen = [pick(sized, key=lambda x: x[1])[0]]
    subject = unit.subject or (unit.cells[0].value if unit.cells else "it")
    what = with_article(subject) + (f" ({qualifier})" if qualifier else "")
    # The plain "price" column first; other price columns after it ("member price")
    chosen.sort(key=lambda c: 0 if _GENERIC_HEADERS.match(c.header.strip()) else 1)
    priced = [(c.header, _money_only(c.value, c.header, ask.currency)) for c in chosen]
    named = [(h, v) for h, v in priced
             if h and not _GENERIC_HEADERS.match(h.strip()) and h != subject
             and unit.kind != "label"
             and not (len(priced) == 1 and _PRICE_COLUMN.search(h))]
    if len(priced) == 1 or not named:
        header, value = priced[0]
        extra = f" {_for(header, value)}".rstrip() if (header, value) in named else ""
        sentence = f"{capital(what)} is {value}{extra}"
    elif len(named) < len(priced):  # "$189.00 ($151.20 for Smile Club members)"
        sentence = (f"{capital(what)} is {priced[0][1]} ("
                    + join_and([f"{v} {_for(h, v)}".rstrip() for h, v in named]) + ")")
    else:
        sentence = f"{capital(what)} is " + join_and(
            [f"{v} {_for(h, v)}".rstrip() for h, v in named])
    notes = _notes(unit, ask)
    return sentence + (f" ({notes})" if notes else "") + "."


_NOT_THE = re.compile(r"\b(?:not|rather than|instead of)\s+(?:the\s+|a\s+|an\s+)?([a-z]+)\b", re.I)


def _header_words(header: str) -> frozenset[str]:
    """What a price column is for, in period words; a length it names is no period: "full-day
    session up to 6 hrs" is not the hourly price."""
    return periods(claim_words(re.sub(r"\b(?:up to|max(?:imum)?|under|about|approx\.?)\s+\d+(?:"
                                      r"\.\d+)?\s*(?:hrs?|hours?|mins?|minutes|days?|weeks?|"
                                      r"months?)\b", " ", header, flags=re.I)))


def _for(header: str, value: str) -> str:
    """What a price is for, after the price: "for a full day", "with basic jewelry"; nothing
    when the price says it ("$100 / hr" under "Per hour")."""
    if periods(claim_words(header)) <= periods(claim_words(value)):
        return ""
    label = lower_header(header)
    return label if re.match(r"(with|without|incl|including|plus|per|each|for|a|an|"
                             r"excluding|excl)\b", label, re.I) else f"for {label}"


# A price column's period in the words a customer uses: "pay for the whole year" is the
# "Annual (paid in full)" column, "per month" the "Monthly" one.
_PERIOD_WORDS = {stem(w): period for period, words in {
    "year": "year years yearly annual annually yr", "month": "month months monthly mo mth",
    "week": "week weeks weekly wk", "day": "day days daily", "hour": "hour hours hourly hr"}.items()
    for w in words.split()}


def periods(words: frozenset[str]) -> frozenset[str]:
    """The words with each period word as its period ("hourly", "hrs": "hour")."""
    return frozenset(_PERIOD_WORDS.get(w, w) for w in words)


def _size(header: str) -> float | None:
    """The size a price column or variant names ("14 oz Amber Jar" -> 14)."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*(oz|ml|l|g|kg|lb|in|inch|cm|pack|pc|pcs|ct|x)?\b", header,
                  re.I)
    return float(m.group(1)) if m else None


def _money_only(value: str, header: str, currency: str) -> str:
    """The cell's amount as a customer reads it: "9.00" under "price_usd" is "$9.00"."""
    value = value.strip().rstrip(".")
    if re.fullmatch(r"\d[\d,]*(\.\d{1,2})?", value):
        symbol = ("$" if re.search(r"usd|\$|dollar", header, re.I) else
                  "€" if re.search(r"eur|€", header, re.I) else
                  "£" if re.search(r"gbp|£|pound", header, re.I) else currency)
        return symbol + value
    return value


def _notes(unit: Unit, ask: Ask) -> str:
    """What a row says the price includes or how long it takes, briefly."""
    out: list[str] = []
    if unit.kind != "record":
        return ""  # a product's description is prose, not notes on its price
    for c in unit.cells:
        if c.value == unit.subject or "money" in c.kinds():
            continue
        if _DURATION_HEADER.search(c.header) and re.fullmatch(r"[\d.–-]+", c.value.strip()):
            unit_word = re.search(r"\((\w+)\)", c.header)
            out.append(f"{c.value.strip()} {unit_word.group(1) if unit_word else 'min'}")
        elif _DURATION_HEADER.search(c.header) and len(c.value) <= 30:
            out.append(c.value.strip())
        elif _INCLUDES.search(c.header) and len(c.value) <= 100:
            out.append(c.value.strip().rstrip("."))
    return "; ".join(out[:2])


def _prose_with(ask: Ask, found: list[Found], weights: WordWeights,
                kind: str) -> Composed | None:
    """A sentence that states a value of `kind` about the question's subject."""
    best: tuple[float, Found] | None = None
    for f in found:
        if f.unit.kind not in ("prose", "qa") or not any(
                x.kind == kind for x in extract_facts(f.unit.text, names=False)):
            continue
        cover = coverage(ask.words, f.unit.words | f.unit.subject_words, weights)
        if cover >= 0.6 and (best is None or cover > best[0]):
            best = (cover, f)
    if best is None:
        return None
    f = best[1]
    return finish("price", [(clean_sentence(focus(f.unit.text, ask, weights)), f.passage)])


# Where a sentence that lists several prices divides into clauses: "; ", " or ", ", ", ". ",
# " – " — outside parentheses, so "(serves 10, with cups)" stays whole.
_CLAUSE_BREAK = re.compile(r"\s*;\s+|\s+or\s+|,\s+(?:and\s+|or\s+)?|(?<=[.!?])\s+|\s+[–—-]\s+"
                           r"|\s+and\s+(?=\S*[$€£\d])")


def _clauses(text: str) -> list[tuple[str, str]]:
    """(separator before it, clause) for each top-level clause of `text`."""
    depth, cuts = 0, []
    opened = {i for i, ch in enumerate(text) if ch in "(["}
    closed = {i for i, ch in enumerate(text) if ch in ")]"}
    level = []
    for i in range(len(text)):
        depth += (i in opened) - (i in closed)
        level.append(depth)
    for m in _CLAUSE_BREAK.finditer(text):
        if m.start() < len(level) and level[m.start()] == 0:
            cuts.append((m.start(), m.end()))
    out, start, sep = [], 0, ""
    for a, b in cuts:
        if a > start:
            out.append((sep, text[start:a]))
            sep, start = text[a:b], b
    out.append((sep, text[start:]))
    return out


def focus(text: str, ask: Ask, weights: WordWeights) -> str:
    """A sentence without the values of what was not asked: "£12.50 a month (combi) or
    £14.50 a month (system)" asked about a combi is "£12.50 a month (combi)", and a list of
    burn times asked about the 14 oz jar keeps the jar's. The clause kept is the one that
    carries most of the question's words; clauses without such a value stay. When no clause
    stands out, the sentence is left whole (the customer sees every value with what it is
    for)."""
    # Lists of prices and of durations ("4 oz tin ~ 20 hrs - 8 oz jar ~ 45 hrs"); a date is
    # not cut from its year, nor an age from what it is the age for.
    kind = ask.wants if ask.wants == "duration" else "money"
    text = _within_bounds(text, ask, kind)
    # the clauses that state what was asked: a price, or "14 oz jar ~ 80 hrs" for how long
    parts = _clauses(text)
    priced = [i for i, (_, c) in enumerate(parts)
              if (any(x.kind == "money" for x in extract_facts(c, names=False))
                  if kind == "money" else carries(kind, c))]
    if len(priced) < 2:
        return text
    covers = {i: coverage(ask.words, claim_words(parts[i][1]), weights) for i in priced}
    best = max(covers.values())
    winners = [i for i in priced if covers[i] >= best - 1e-9]
    if best <= 0 or len(winners) > 1:
        return text
    kept: list[tuple[str, str]] = []
    for i, (sep, c) in enumerate(parts):
        if i not in priced or i == winners[0]:
            kept.append((sep, c))
        elif kept and c.rstrip()[-1:] in ".!?" and kept[-1][1].rstrip()[-1:] not in ".!?":
            kept[-1] = (kept[-1][0], kept[-1][1].rstrip() + ".")  # the dropped clause's full stop
    out = kept[0][1] + "".join(sep + c for sep, c in kept[1:])
    out = out.strip().rstrip(",;–—-").strip()
    return out[:1].upper() + out[1:]


def _within_bounds(text: str, ask: Ask, kind: str) -> str:
    """Without the parts whose bound leaves out the customer's own quantity: "under three
    hours the deposit is $50; three hours or longer, $100" for a 4-hour session is the $100
    part (doppel.language.quantity)."""
    parts = [p for p in re.split(r"(?<=;)\s+|(?<=[.!?])\s+", text) if p.strip()]
    stating = [p for p in parts if (any(x.kind == "money" for x in extract_facts(p, names=False))
                                    if kind == "money" else carries(kind, p))]
    out = [p for p in stating if excludes(ask.text, p)]
    if len(stating) < 2 or not out or len(out) == len(stating):
        return text
    kept = " ".join(p for p in parts if p not in out).strip().rstrip(";,").rstrip()
    return kept[:1].upper() + kept[1:]


PRICE_COVERAGE = 0.5     # share of the question's word weight a price row must carry
