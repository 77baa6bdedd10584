#!/usr/bin/env python3
"""Build allergens.pdf for the Juniper & Rye Bakery example, using only the standard library.

The PDF is written by hand: a catalog, a page tree, one page, two standard Type 1
fonts (Helvetica and Helvetica-Bold, which every PDF reader provides) and one
content stream that draws the text line by line with BT/ET, Tf, Td, TL, Tj and '.
The cross-reference table is built from the exact byte offset of every object.

Run from anywhere:  python3 examples/bakery/_make_pdf.py
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "bakery" / "allergens.pdf"

# (style, text). Styles: "title", "sub", "head", "body", "gap" (empty line).
LINES: list[tuple[str, str]] = [
    ("title", "Juniper & Rye Bakery - Allergen guide"),
    ("sub", "418 Alder Street, Millbrook, OR 97099 | (503) 555-0142 | hello@juniperandrye.example"),
    ("sub", "Updated March 2025. Recipes can change: please ask a staff member before you order."),
    ("gap", ""),
    ("body", "Our kitchen handles gluten (wheat, rye), milk, eggs, tree nuts (almonds, walnuts, hazelnuts),"),
    ("body", "sesame and soy. We do not use peanuts. Everything is made in one shared kitchen, so any item"),
    ("body", "may contain traces of any allergen, including items made with gluten-free ingredients."),
    ("gap", ""),
    ("head", "Breads"),
    ("body", "Country Sourdough: wheat (gluten)"),
    ("body", "Juniper Rye: wheat and rye (gluten)"),
    ("body", "Seeded Multigrain: wheat (gluten), sesame"),
    ("body", "Baguette: wheat (gluten)"),
    ("body", "Olive & Rosemary Fougasse: wheat (gluten)"),
    ("body", "Brioche Loaf: wheat (gluten), milk, eggs"),
    ("body", "Gluten-Free Buckwheat Loaf: eggs (gluten-free ingredients, shared kitchen)"),
    ("head", "Pastries"),
    ("body", "Butter Croissant: wheat (gluten), milk, eggs"),
    ("body", "Almond Croissant: wheat (gluten), milk, eggs, tree nuts (almonds)"),
    ("body", "Pain au Chocolat: wheat (gluten), milk, eggs, soy"),
    ("body", "Cardamom Bun: wheat (gluten), milk, eggs"),
    ("body", "Seasonal Fruit Galette: wheat (gluten), milk, eggs"),
    ("body", "Hazelnut Financier: wheat (gluten), milk, eggs, tree nuts (almonds, hazelnuts)"),
    ("body", "Vegan Blueberry Muffin: wheat (gluten)"),
    ("body", "Chocolate Chip Cookie: wheat (gluten), milk, eggs, soy"),
    ("body", "Tahini Shortbread: wheat (gluten), milk, sesame"),
    ("body", "Cheddar & Chive Scone: wheat (gluten), milk, eggs"),
    ("head", "Cakes"),
    ("body", "Carrot Cake: wheat (gluten), milk, eggs, tree nuts (walnuts)"),
    ("body", "Chocolate Olive Oil Cake: wheat (gluten), eggs, soy (no dairy)"),
    ("body", "Lemon Poppyseed Cake: wheat (gluten), milk, eggs"),
    ("body", "Flourless Chocolate Torte: milk, eggs, soy (gluten-free ingredients, shared kitchen)"),
    ("head", "Drinks"),
    ("body", "Espresso drinks with whole milk, Chai Latte: milk"),
    ("body", "Hot Chocolate: milk, soy"),
    ("body", "Almond milk: tree nuts (almonds). Oat milk: oats (may contain traces of gluten)"),
    ("gap", ""),
    ("sub", "Severe allergy? Talk to us first: (503) 555-0142, Tuesday to Sunday during opening hours."),
]

STYLES = {
    # style: (font resource, size, leading = space *before* the line)
    "title": ("F2", 18, 0),
    "sub": ("F1", 9, 16),
    "head": ("F2", 12, 20),
    "body": ("F1", 10.5, 14),
    "gap": ("F1", 10.5, 8),
}

PAGE_W, PAGE_H = 612, 792  # US Letter, in points
LEFT, TOP = 60, 740


def pdf_string(text: str) -> bytes:
    """A PDF literal string: escape backslash and parentheses; WinAnsi (cp1252) bytes."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def content_stream() -> bytes:
    ops: list[bytes] = [b"BT", b"%d %d Td" % (LEFT, TOP)]
    current_font = None
    first = True
    for style, text in LINES:
        font, size, leading = STYLES[style]
        if (font, size) != current_font:
            ops.append(f"/{font} {size:g} Tf".encode())
            current_font = (font, size)
        if first:
            ops.append(pdf_string(text) + b" Tj")
            first = False
            continue
        ops.append(f"{leading:g} TL".encode())
        # ' moves to the start of the next line (by TL) and shows the string.
        ops.append(pdf_string(text) + b" '")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def build() -> bytes:
    stream = content_stream()
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        )
        % (PAGE_W, PAGE_H),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        (
            b"<< /Title (Juniper & Rye Bakery - Allergen guide) "
            b"/Author (Juniper & Rye Bakery) /Producer (_make_pdf.py) >>"
        ),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"  # each entry is exactly 20 bytes
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, len(objects))
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def main() -> None:
    data = build()
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes, {len(LINES)} lines)")


if __name__ == "__main__":
    main()
