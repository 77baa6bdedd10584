"""Chunking: units packed whole into chunks of about chunk_chars, records alone, offsets sane."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from doppel.knowledge.chunking import Chunk, chunk_document
from doppel.knowledge.loaders import LoadedDocument, Section, loader_for

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bakery"


def load_example(name: str) -> LoadedDocument:
    loader = loader_for(name)
    assert loader is not None
    return loader.load((EXAMPLES / name).read_bytes(), name)


def check_offsets(chunks: list[Chunk]) -> None:
    assert [c.ord for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.end - c.start == len(c.text)
        assert c.start >= 0
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.start, (a, b)
        assert b.start >= a.end, f"chunk {b.ord} starts inside chunk {a.ord}"


def item_units(n: int, width: int = 40) -> list[str]:
    return [f"- item {i:02d} " + "x" * (width - 10) for i in range(n)]


def test_units_are_never_split_and_chunks_respect_the_size() -> None:
    items = item_units(20, width=45)
    rows = [f"Size: {i}-inch; Servings: {i * 2}; Price: ${i * 10}.00" for i in range(6, 16)]
    doc = LoadedDocument("t", [Section("Shop > Items", items, 0),
                               Section("Shop > Sizes", rows, 2000)])
    chunks = chunk_document(doc, chunk_chars=150)

    assert len(chunks) > 4  # the packing really had to cut
    for c in chunks:
        assert len(c.text) <= 150
    # every unit is a whole line of exactly one chunk, in order, and nothing else is there
    lines = [ln for c in chunks for ln in c.text.split("\n")]
    assert lines == items + rows
    # a chunk never mixes two sections
    for c in chunks:
        parts = set(c.text.split("\n"))
        assert parts <= set(items) or parts <= set(rows)


def test_packing_is_greedy() -> None:
    units = ["a" * 40, "b" * 40, "c" * 40, "d" * 40, "e" * 40]
    chunks = chunk_document(LoadedDocument("t", [Section("H", units)]), chunk_chars=100)
    # 41 + 41 = 82 fits in 100, a third 41 does not
    assert [c.text for c in chunks] == ["a" * 40 + "\n" + "b" * 40,
                                        "c" * 40 + "\n" + "d" * 40, "e" * 40]


def test_units_that_fit_together_share_one_chunk() -> None:
    units = ["First short paragraph.", "- one", "- two", "Last line."]
    chunks = chunk_document(LoadedDocument("t", [Section("Head", units, 5)]), chunk_chars=600)
    assert len(chunks) == 1
    assert chunks[0].text == "\n".join(units)
    assert (chunks[0].start, chunks[0].end) == (5, 5 + len(chunks[0].text))


def test_overlong_unit_is_split_at_sentence_boundaries() -> None:
    sentences = [f"Sentence number {i} talks about bread and pastry for a while."
                 for i in range(12)]
    long_unit = " ".join(sentences)
    assert len(long_unit) > 300
    doc = LoadedDocument("t", [Section("H", ["Before.", long_unit, "After."])])
    chunks = chunk_document(doc, chunk_chars=200)

    for c in chunks:
        assert len(c.text) <= 200
    pieces = [ln for c in chunks for ln in c.text.split("\n")]
    assert pieces[0] == "Before." and pieces[-1] == "After."
    middle = pieces[1:-1]
    assert len(middle) > 1
    # each piece is made of whole sentences, and together they give back the unit
    for piece in middle:
        assert piece.endswith("."), piece
        assert re.fullmatch(r"(Sentence number \d+ talks about bread and pastry for a while\.\s?)+",
                            piece), piece
    assert " ".join(middle) == long_unit
    check_offsets(chunks)


def test_overlong_sentence_is_cut_at_spaces() -> None:
    words = " ".join(f"word{i}" for i in range(100))  # ~690 chars, no sentence end
    chunks = chunk_document(LoadedDocument("t", [Section("H", [words])]), chunk_chars=120)
    assert len(chunks) >= 6
    for c in chunks:
        assert 0 < len(c.text) <= 120
    out = " ".join(c.text for c in chunks).split()
    assert out == words.split()  # no word cut or lost


def test_records_are_one_chunk_each() -> None:
    records = ["item: Sourdough; price: 9.00", "item: Baguette; price: 4.00",
               "item: Scone; price: 4.50"]
    doc = LoadedDocument("prices", [Section("prices", records, 0, records=True)])
    chunks = chunk_document(doc, chunk_chars=600)
    assert [c.text for c in chunks] == records
    check_offsets(chunks)


@pytest.mark.parametrize("name,count", [("prices.csv", 39), ("faq.yaml", 17)])
def test_example_records_become_one_chunk_each(name: str, count: int) -> None:
    doc = load_example(name)
    chunks = chunk_document(doc, chunk_chars=600)
    assert len(chunks) == count
    assert [c.text for c in chunks] == doc.sections[0].units
    check_offsets(chunks)


def test_faq_chunk_keeps_question_and_answer_together() -> None:
    chunks = chunk_document(load_example("faq.yaml"), chunk_chars=600)
    dogs = [c for c in chunks if "Can I bring my dog?" in c.text]
    assert len(dogs) == 1
    assert dogs[0].text.startswith("Q: Can I bring my dog?\nA: Dogs are very welcome")


def test_headings_are_carried_to_every_chunk() -> None:
    doc = LoadedDocument("t", [Section("Menu > Breads", item_units(10)),
                               Section("Menu > Drinks", item_units(10), 1000)])
    chunks = chunk_document(doc, chunk_chars=100)
    assert {c.heading for c in chunks} == {"Menu > Breads", "Menu > Drinks"}
    assert [c.heading for c in chunks] == sorted(c.heading for c in chunks)
    for c in chunks:
        assert c.embedding_text() == f"{c.heading}\n{c.text}"
    assert Chunk(0, "", "text only", 0, 9).embedding_text() == "text only"


def test_markdown_example_headings_and_content() -> None:
    doc = load_example("custom-cakes.md")
    chunks = chunk_document(doc, chunk_chars=600)
    delivery = [c for c in chunks if c.heading == "Custom cakes > Delivery"]
    assert delivery and "Delivery fee: a flat $25." in delivery[0].text
    assert {c.heading for c in chunks} == {s.heading for s in doc.sections}


@pytest.mark.parametrize("name", ["custom-cakes.md", "hours-and-location.md", "index.md",
                                  "menu.md", "allergens.pdf", "prices.csv", "faq.yaml"])
@pytest.mark.parametrize("chunk_chars", [100, 250, 600])
def test_example_offsets_increase_and_match_text(name: str, chunk_chars: int) -> None:
    doc = load_example(name)
    chunks = chunk_document(doc, chunk_chars=chunk_chars)
    assert chunks
    check_offsets(chunks)
    # nothing is lost: every unit's words are in the chunks, in order
    words = [w for s in doc.sections for u in s.units for w in u.split()]
    assert [w for c in chunks for w in c.text.split()] == words
    if not any(s.records for s in doc.sections):
        assert all(len(c.text) <= chunk_chars for c in chunks)


def test_html_example_offsets_increase() -> None:
    doc = load_example("policies.html")
    assert doc.sections[0].offset == 0
    check_offsets(chunk_document(doc, chunk_chars=600))


def test_empty_document_gives_no_chunks() -> None:
    assert chunk_document(LoadedDocument("t", []), 600) == []
    assert chunk_document(LoadedDocument("t", [Section("H", [])]), 600) == []
