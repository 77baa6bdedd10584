"""The built-in loaders, on good and bad input, and the loader registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doppel.agents.spec import AgentSpec
from doppel.errors import IngestError
from doppel.knowledge.loaders import (
    LOADERS,
    CSVLoader,
    FAQLoader,
    HTMLLoader,
    LoadedDocument,
    MarkdownLoader,
    PDFLoader,
    Section,
    TextLoader,
    loader_for,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bakery"


def all_units(doc: LoadedDocument) -> list[str]:
    return [u for s in doc.sections for u in s.units]


def section(doc: LoadedDocument, heading: str) -> Section:
    found = [s for s in doc.sections if s.heading == heading]
    assert found, f"no section {heading!r} in {[s.heading for s in doc.sections]}"
    return found[0]


# --- Markdown -----------------------------------------------------------------------------------

MARKDOWN = b"""---
title: Front matter title
secret: front-matter-value-xyz
---
# Corner Shop

Welcome to the **corner** shop. See [our menu](https://shop.example/menu) for more,
and the *daily* specials.

## Opening

We open early.

### Weekends

- Saturday: 8 to 4
- Sunday: 9 to 2
* Holidays vary

## Contact

1. Call us
2) Or write

Phone is `555-0100`.
"""


def test_markdown_nested_headings_lists_front_matter_and_links() -> None:
    doc = MarkdownLoader().load(MARKDOWN, "corner-shop.md")

    assert doc.title == "Corner Shop"  # the first H1, not the file name or the front matter
    assert [s.heading for s in doc.sections] == [
        "Corner Shop",
        "Corner Shop > Opening",
        "Corner Shop > Opening > Weekends",
        "Corner Shop > Contact",
    ]
    units = all_units(doc)
    # front matter is dropped entirely
    assert not any("front-matter-value-xyz" in u or "Front matter title" in u for u in units)
    # a paragraph spanning two lines is one unit; inline markup is stripped; links keep URLs
    assert section(doc, "Corner Shop").units == [
        "Welcome to the corner shop. See our menu (https://shop.example/menu) for more, "
        "and the daily specials."
    ]
    # each list item is a unit of its own, whatever its marker
    assert section(doc, "Corner Shop > Opening > Weekends").units == [
        "- Saturday: 8 to 4", "- Sunday: 9 to 2", "* Holidays vary"]
    assert section(doc, "Corner Shop > Contact").units == [
        "1. Call us", "2) Or write", "Phone is 555-0100."]
    # a deeper heading does not keep a sibling's sub-heading
    assert section(doc, "Corner Shop > Contact").offset > section(
        doc, "Corner Shop > Opening > Weekends").offset


def test_markdown_section_offsets_point_into_the_text() -> None:
    text = "# T\n\nFirst para.\n\n## Sub\n\nSecond para.\n"
    doc = MarkdownLoader().load(text.encode(), "t.md")
    for s in doc.sections:
        assert text[s.offset:].lstrip("\n").startswith(s.units[0])


def test_markdown_without_h1_uses_file_name_as_title() -> None:
    doc = MarkdownLoader().load(b"Just a paragraph.\n", "opening_hours-2025.md")
    assert doc.title == "opening hours 2025"
    assert doc.sections[0].heading == "opening hours 2025"
    assert doc.sections[0].units == ["Just a paragraph."]


def test_markdown_with_only_headings_has_no_text() -> None:
    with pytest.raises(IngestError, match="no text"):
        MarkdownLoader().load(b"# Title\n\n## Sub\n", "empty.md")


def test_markdown_table_rows_become_header_value_records() -> None:
    md = (b"# Sizes\n\n"
          b"| Size | Servings | Price |\n"
          b"|------|---------:|:-----:|\n"
          b"| 6-inch | 8-10 | $45 |\n"
          b"| 8-inch | 12-16 | $65 |\n")
    doc = MarkdownLoader().load(md, "sizes.md")
    assert all_units(doc) == [
        "Size: 6-inch; Servings: 8-10; Price: $45",
        "Size: 8-inch; Servings: 12-16; Price: $65",
    ]


def test_markdown_text_directly_above_a_table_is_kept() -> None:
    md = b"Our sizes are below:\n| Size | Price |\n|---|---|\n| small | $5 |\n"
    units = all_units(MarkdownLoader().load(md, "t.md"))
    assert "Size: small; Price: $5" in units
    assert any("Our sizes are below" in u for u in units)


def test_markdown_table_in_the_bakery_example_keeps_every_row() -> None:
    doc = MarkdownLoader().load((EXAMPLES / "hours-and-location.md").read_bytes(),
                                "hours-and-location.md")
    text = "\n".join(section(doc, "Hours & location > Regular opening hours").units)
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert day in text
    assert "Closed" in text and "8:00 am – 2:00 pm" in text


# --- plain text ---------------------------------------------------------------------------------

def test_text_loader_paragraphs_and_items() -> None:
    data = b"Hello world.\r\n\r\nSecond para\r\ncontinues here.\n\n- a\n- b\n\n\n"
    doc = TextLoader().load(data, "shop_notes.txt")
    assert doc.title == "shop notes"
    assert len(doc.sections) == 1 and doc.sections[0].offset == 0
    assert doc.sections[0].units == ["Hello world.", "Second para continues here.", "- a", "- b"]


def test_text_loader_decodes_bom_and_cp1252() -> None:
    assert TextLoader().load(b"\xef\xbb\xbfCaf\xc3\xa9 open", "a.txt").sections[0].units == [
        "Café open"]
    assert TextLoader().load(b"Caf\xe9 open", "a.txt").sections[0].units == ["Café open"]


@pytest.mark.parametrize("loader,name", [
    (TextLoader(), "x.txt"), (MarkdownLoader(), "x.md"), (HTMLLoader(), "x.html"),
    (CSVLoader(), "x.csv"), (FAQLoader(), "x.yaml"), (FAQLoader(), "x.json"),
])
def test_text_loaders_reject_binary_data(loader: object, name: str) -> None:
    data = b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(256)) * 4
    with pytest.raises(IngestError, match="binary"):
        loader.load(data, name)  # type: ignore[attr-defined]


# --- HTML ---------------------------------------------------------------------------------------

HTML = b"""<!doctype html><html><head><title>Shop | Example</title>
<script>var trackingSecret = "script-text-xyz";</script><style>body{color:red}</style></head>
<body>
<header><a href="/">Logo-header-xyz</a></header>
<nav><ul><li><a href="/menu">Nav-link-xyz</a></li></ul></nav>
<div class="sidebar">outside main, dropped because main exists</div>
<main>
  <h1>Our shop</h1>
  <p>We bake   <strong>bread</strong>
     every day.</p>
  <h2>Delivery</h2>
  <ul><li>Within <b>10 miles</b></li><li>Flat fee <p>nested para</p></li></ul>
  <h3>Prices</h3>
  <table>
    <tr><th>Item</th><th>Price</th></tr>
    <tr><td>Sourdough</td><td>$9</td></tr>
    <tr><td>Baguette</td><td>$4</td></tr>
  </table>
  <form><p>Form-text-xyz</p></form>
</main>
<footer><p>Footer-text-xyz</p></footer>
</body></html>"""


def test_html_keeps_main_content_and_drops_chrome() -> None:
    doc = HTMLLoader().load(HTML, "shop.html")
    assert doc.title == "Shop | Example"
    assert [s.heading for s in doc.sections] == [
        "Our shop", "Our shop > Delivery", "Our shop > Delivery > Prices"]
    assert section(doc, "Our shop").units == ["We bake bread every day."]
    assert section(doc, "Our shop > Delivery").units == [
        "- Within 10 miles", "- Flat fee nested para"]
    assert section(doc, "Our shop > Delivery > Prices").units == [
        "Item: Sourdough; Price: $9", "Item: Baguette; Price: $4"]
    everything = " ".join(all_units(doc))
    for dropped in ("script-text-xyz", "Logo-header-xyz", "Nav-link-xyz", "Footer-text-xyz",
                    "Form-text-xyz", "outside main", "color:red"):
        assert dropped not in everything


def test_html_bakery_policies_page() -> None:
    doc = HTMLLoader().load((EXAMPLES / "policies.html").read_bytes(), "policies.html")
    assert doc.title == "Policies | Juniper & Rye Bakery"
    headings = [s.heading for s in doc.sections]
    assert "Our policies > Custom cake cancellations" in headings
    assert "Our policies > Wholesale accounts" in headings
    text = " ".join(all_units(doc))
    assert "Minimum order: $150 per week" in text
    assert "we refund your deposit in full" in text
    assert "Instagram" not in text and "All rights reserved" not in text  # footer
    assert not any(u in ("- Home", "- Menu", "- Gift cards") for u in all_units(doc))  # nav


def test_html_without_main_uses_body_and_empty_page_fails() -> None:
    doc = HTMLLoader().load(b"<html><body><p>Only a body.</p></body></html>", "page.htm")
    assert doc.title == "page" and all_units(doc) == ["Only a body."]
    with pytest.raises(IngestError, match="no text"):
        HTMLLoader().load(b"<html><body><nav><p>menu</p></nav><script>x()</script></body></html>",
                          "page.html")


# --- PDF ----------------------------------------------------------------------------------------

def test_pdf_bakery_allergen_guide() -> None:
    data = (EXAMPLES / "allergens.pdf").read_bytes()
    doc = PDFLoader().load(data, "allergens.pdf")
    assert doc.title == "Juniper & Rye Bakery - Allergen guide"  # from the PDF's metadata
    assert doc.sections and all("(page " in s.heading for s in doc.sections)
    assert doc.sections[0].heading.endswith("(page 1)") and doc.sections[0].offset == 0
    units = all_units(doc)
    assert "Almond Croissant: wheat (gluten), milk, eggs, tree nuts (almonds)" in units
    assert any("We do not use peanuts" in u for u in units)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_pdf_truncated_is_an_ingest_error(cut: float) -> None:
    data = (EXAMPLES / "allergens.pdf").read_bytes()
    with pytest.raises(IngestError, match="PDF"):
        PDFLoader().load(data[: int(len(data) * cut)], "allergens.pdf")


def test_pdf_garbage_is_an_ingest_error() -> None:
    with pytest.raises(IngestError, match="not a PDF"):
        PDFLoader().load(b"<html>renamed page</html>", "fake.pdf")
    with pytest.raises(IngestError, match="PDF"):
        PDFLoader().load(b"%PDF-1.7\n" + bytes(range(256)) * 8, "corrupt.pdf")


# --- CSV ----------------------------------------------------------------------------------------

def test_csv_rows_are_records_with_header_names() -> None:
    data = (b"item,price,notes\n"
            b"Sourdough,9.00,\"vegan, rye with caraway\"\n"
            b"Croissant,4.25,\n"
            b"\n"
            b"Scone,4.50,savoury\n")
    doc = CSVLoader().load(data, "price-list.csv")
    assert doc.title == "price list"
    assert len(doc.sections) == 1 and doc.sections[0].records is True
    assert doc.sections[0].units == [
        "item: Sourdough; price: 9.00; notes: vegan, rye with caraway",
        "item: Croissant; price: 4.25",  # empty cells are left out
        "item: Scone; price: 4.50; notes: savoury",
    ]


def test_csv_bakery_prices() -> None:
    doc = CSVLoader().load((EXAMPLES / "prices.csv").read_bytes(), "prices.csv")
    units = doc.sections[0].units
    assert len(units) == 39
    assert ("item: Gluten-Free Buckwheat Loaf; category: bread; size: loaf; price: 11.00; "
            "notes: gluten-free ingredients, shared kitchen; Fridays and Saturdays only") in units


def test_csv_other_delimiters() -> None:
    assert CSVLoader().load(b"a;b\n1;2\n", "s.csv").sections[0].units == ["a: 1; b: 2"]
    assert CSVLoader().load(b"a\tb\n1\t2\n", "s.tsv").sections[0].units == ["a: 1; b: 2"]


@pytest.mark.parametrize("data", [b"item,price\n", b"item,price\n\n \n", b"\"a,b\",c\r\n"])
def test_csv_with_only_a_header_is_rejected(data: bytes) -> None:
    with pytest.raises(IngestError, match="header"):
        CSVLoader().load(data, "only-header.csv")


# --- FAQ ----------------------------------------------------------------------------------------

def faq_pairs(doc: LoadedDocument) -> list[tuple[str, str]]:
    return [(e.question, e.answer) for e in doc.faq]


def test_faq_yaml_list_form() -> None:
    data = b"- question: Do you deliver?\n  answer: Only cakes.\n- q: Open Monday?\n  a: No.\n"
    doc = FAQLoader().load(data, "faq.yaml")
    assert faq_pairs(doc) == [("Do you deliver?", "Only cakes."), ("Open Monday?", "No.")]
    assert doc.sections[0].records is True
    assert doc.sections[0].units == ["Q: Do you deliver?\nA: Only cakes.",
                                     "Q: Open Monday?\nA: No."]


def test_faq_json_list_form() -> None:
    data = json.dumps([{"question": " Wi-Fi? ", "answer": "Yes, free."},
                       {"question": "Seats?", "answer": 24}]).encode()
    doc = FAQLoader().load(data, "faq.json")
    assert faq_pairs(doc) == [("Wi-Fi?", "Yes, free."), ("Seats?", "24")]


@pytest.mark.parametrize("name,data", [
    ("faq.json", b'{"faq": [{"question": "Dogs?", "answer": "On the patio."}]}'),
    ("faq.yml", b"faq:\n  - question: Dogs?\n    answer: On the patio.\n"),
])
def test_faq_wrapped_form(name: str, data: bytes) -> None:
    assert faq_pairs(FAQLoader().load(data, name)) == [("Dogs?", "On the patio.")]


def test_faq_mapping_form() -> None:
    data = b'"Do you take cards?": "Yes, all major cards."\nParking?: Free on the street.\n'
    doc = FAQLoader().load(data, "questions.yaml")
    assert faq_pairs(doc) == [("Do you take cards?", "Yes, all major cards."),
                              ("Parking?", "Free on the street.")]


def test_faq_bakery_example() -> None:
    doc = FAQLoader().load((EXAMPLES / "faq.yaml").read_bytes(), "faq.yaml")
    assert len(doc.faq) == 17
    assert doc.faq[1].question == "Are you open on Mondays?"
    assert doc.faq[1].answer.startswith("No, we are closed every Monday.")


def test_faq_invalid_yaml_gives_a_message() -> None:
    with pytest.raises(IngestError, match=r"invalid YAML: \S+"):
        FAQLoader().load(b"- question: [unclosed\n  answer: x\n", "faq.yaml")


def test_faq_invalid_json_gives_a_message() -> None:
    with pytest.raises(IngestError, match=r"invalid JSON: \S+"):
        FAQLoader().load(b'[{"question": "x", ', "faq.json")


@pytest.mark.parametrize("data", [
    b"just a sentence\n",
    b"name: juniper\nsettings:\n  port: 80\n",
    b"- one\n- two\n",
    b"- question: no answer here\n",
    b"{}\n",
])
def test_yaml_that_is_not_a_faq_is_rejected(data: bytes) -> None:
    with pytest.raises(IngestError, match="question/answer"):
        FAQLoader().load(data, "config.yaml")


# --- loader_for and the registry ------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("menu.md", "markdown"), ("MENU.MD", "markdown"), ("notes.Markdown", "markdown"),
    ("a.TXT", "text"), ("page.HTM", "html"), ("Page.Html", "html"), ("Guide.PDF", "pdf"),
    ("Prices.CSV", "csv"), ("x.tsv", "csv"), ("FAQ.YAML", "faq"), ("faq.yml", "faq"),
    ("faq.Json", "faq"), ("sub/dir/menu.md", "markdown"),
])
def test_loader_for_picks_by_suffix_case_insensitively(name: str, expected: str) -> None:
    loader = loader_for(name)
    assert loader is not None and loader.name == expected


@pytest.mark.parametrize("name", ["photo.jpg", "report.docx", "README", "menu.md.bak", "md",
                                  "archive.tar.gz"])
def test_loader_for_unknown_types(name: str) -> None:
    assert loader_for(name) is None


class RecipeLoader:
    """A third-party loader: 'Title' on the first line, one ingredient per line after."""

    name = "test-recipe-loader"
    suffixes = (".recipe",)

    def __init__(self) -> None:
        self.calls: list[str] = []

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        self.calls.append(filename)
        title, *lines = data.decode().strip().split("\n")
        return LoadedDocument(title, [Section(title, [f"Ingredient: {ln}" for ln in lines])])


@pytest.fixture
def recipe_loader() -> object:
    loader = RecipeLoader()
    assert loader.name not in LOADERS
    LOADERS.register(loader)
    try:
        yield loader
    finally:
        LOADERS._items.pop(loader.name, None)  # the registry has no public unregister


def test_registered_loader_is_used_by_ingestion(app, recipe_loader, tmp_path: Path) -> None:
    assert loader_for("Grandma.RECIPE") is recipe_loader
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bread.recipe").write_text("Rye bread\nrye flour\ncaraway seeds\n")
    (folder / "menu.md").write_text("# Menu\n\nBread.\n")
    agent = app.agents.create(AgentSpec(slug="recipes", name="Recipes"))

    report = app.ingestor.ingest(agent, [folder])

    by_source = {f.source: f for f in report.files}
    assert by_source["bread.recipe"].status == "added", by_source["bread.recipe"].reason
    assert recipe_loader.calls == ["bread.recipe"]
    row = app.db.connect().execute(
        "SELECT loader, title FROM documents WHERE agent_id = ? AND source = 'bread.recipe'",
        (agent.id,)).fetchone()
    assert (row["loader"], row["title"]) == ("test-recipe-loader", "Rye bread")
    hits = app.index.search(agent.id, "caraway seeds", 1)
    assert hits and hits[0].source == "bread.recipe"
    assert hits[0].text == "Ingredient: rye flour\nIngredient: caraway seeds"
    assert hits[0].heading == "Rye bread"


def test_registering_a_taken_name_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        LOADERS.register(RecipeLoader(), "markdown")
    assert LOADERS.get("markdown").__class__ is MarkdownLoader


def test_unregistered_suffix_is_skipped_after_removal(app) -> None:
    agent = app.agents.create(AgentSpec(slug="plain", name="Plain"))
    report = app.ingestor.ingest_bytes(agent, b"Rye\nflour\n", "bread.recipe")
    assert report.status == "skipped" and "unsupported" in report.reason


def test_html_table_spans_keep_every_value_under_its_column() -> None:
    page = b"""<html><body><main><table>
      <tr><th>Plan</th><th>Species</th><th>Monthly</th><th>Annual</th></tr>
      <tr><td rowspan="2">Adult Essentials</td><td>Dog</td><td>$32/mo</td><td>$365</td></tr>
      <tr><td>Cat</td><td>$27/mo</td><td>$305</td></tr>
      <tr><td>Senior Plus</td><td colspan="3">ask at the desk</td></tr>
    </table></main></body></html>"""
    assert all_units(HTMLLoader().load(page, "plans.html")) == [
        "Plan: Adult Essentials; Species: Dog; Monthly: $32/mo; Annual: $365",
        "Plan: Adult Essentials; Species: Cat; Monthly: $27/mo; Annual: $305",
        "Plan: Senior Plus; Species: ask at the desk; Monthly: ask at the desk; "
        "Annual: ask at the desk"]


def test_html_footer_keeps_how_to_get_there_and_drops_struck_text() -> None:
    page = b"""<html><body><main><p>Grinder <s>\xc2\xa3219.00</s> now \xc2\xa3189.00</p></main>
      <footer><div><h2>Find us</h2><p>The Old Mill, 3 Mill Yard, Kirkby HG4 7RW</p>
      <p><strong>Parking:</strong> the nearest car park is Bridge Street (pay &amp; display,
      free all day Sunday).</p><p>Cookie settings</p></div></footer></body></html>"""
    units = all_units(HTMLLoader().load(page, "index.html"))
    assert "Grinder now £189.00" in units and not any("219" in u for u in units)
    assert "The Old Mill, 3 Mill Yard, Kirkby HG4 7RW" in units
    assert any(u.startswith("Parking: the nearest car park") for u in units)
    assert not any("Cookie" in u for u in units)
    md = MarkdownLoader().load(b"# Hours\n\n~~Closed Mon 6 Jan~~ open as normal on the 6th.\n",
                               "hours.md")
    assert all_units(md) == ["open as normal on the 6th."]


# --- tables whose rows hold several prices ------------------------------------------------

def test_html_section_rows_name_the_price_columns_below_them() -> None:
    page = b"""<html><body><main><table>
    <tr><th>Treatment</th><th>Price</th><th>Second price</th></tr>
    <tr><th colspan="3">Nails - hands only / hands and feet</th></tr>
    <tr><td>Gel polish</td><td>$35</td><td>$60</td></tr>
    <tr><th colspan="3">Brows (shape / shape and tint)</th></tr>
    <tr><td>Brow wax</td><td>$18</td><td>&mdash;</td></tr>
    </table></main></body></html>"""
    units = all_units(HTMLLoader().load(page, "prices.html"))
    assert "Nails - hands only / hands and feet" in units  # the section row, as a line
    assert ("Treatment: Gel polish; Category: Nails; Hands only: $35; Hands and feet: $60"
            in units)
    # a dash is no value, and a label list in parentheses names the columns too
    assert "Treatment: Brow wax; Category: Brows; Shape: $18" in units


def test_html_cells_with_two_prices_are_split_by_their_labels() -> None:
    page = """<html><body><main>
    <h2>Pasta</h2><table>
    <tr><th>Dish</th><th>Small / Large</th></tr>
    <tr><td><strong>Cacio e pepe</strong><br><small>Pecorino, black pepper.</small></td>
        <td>€9.50 / €14.00</td></tr>
    <tr><td>Lasagne</td><td>half €8 / whole €15</td></tr>
    <tr><td>Ravioli</td><td>€12 / hr</td></tr>
    </table>
    <table><tr><td>House lemonade – glass / jug</td><td>€3.50 / €11.00</td></tr></table>
    <h3>Tasting Menu – €55</h3><p>Seven courses, changes weekly.</p>
    </main></body></html>""".encode()
    units = all_units(HTMLLoader().load(page, "menu.html"))
    assert ("Dish: Cacio e pepe; Description: Pecorino, black pepper.; Small: €9.50; "
            "Large: €14.00") in units
    assert "Dish: Lasagne; Half: €8; Whole: €15" in units
    assert "Dish: Ravioli; Small / Large: €12 / hr" in units  # one price and its period
    # a table without a header row keeps its first row; the name lists the labels
    assert "Item: House lemonade; Glass: €3.50; Jug: €11.00" in units
    assert "Tasting Menu – €55" in units  # a heading that states a price is a line too


def test_markdown_and_csv_tables_split_two_price_cells() -> None:
    md = b"| Class | Drop-in / 10-pass |\n|---|---|\n| Vinyasa | $22 / $180 |\n"
    assert all_units(MarkdownLoader().load(md, "classes.md")) == [
        "Class: Vinyasa; Drop-in: $22; 10-pass: $180"]
    rows = b"item,price_gbp\nScone,2.50 / 4.00\n"
    assert all_units(CSVLoader().load(rows, "cafe.csv")) == ["item: Scone; price_gbp: 2.50 / 4.00"]


def test_odd_tables_read_without_error_and_lose_no_value() -> None:
    from doppel.knowledge.loaders.tables import TableReader

    reader = TableReader(["Item", "Price"])
    assert reader.row([]) == "" and reader.row(["", "—"]) == ""  # nothing in the row
    assert TableReader([]).row(["Scone", "£3 / £4"]) == "Scone | £3 / £4"
    page = ("<table><tr><th>a</th><th>b</th></tr><tr><td>\u205e odd</td><td>£3 / £4</td></tr>"
            "<tr><th colspan='99999'>Big section</th></tr></table>").encode()
    units = all_units(HTMLLoader().load(page, "odd.html"))
    assert units[0] == "a: odd; b: £3 / £4"
