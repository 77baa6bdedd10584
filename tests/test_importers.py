"""Importers for owners' real exports (Instagram, Facebook, X, captions, posts, Shopify,
WooCommerce, catalogs) and for zip archives, through the real ingestor on a real SQLite file."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.errors import IngestError
from doppel.knowledge.archive import expand
from doppel.knowledge.ingest import FileReport
from doppel.knowledge.loaders import LoadedDocument, loader_for
from doppel.knowledge.loaders.catalog import CatalogLoader, CatalogMapping, load_catalog
from doppel.knowledge.loaders.social import caption_paragraphs, fix_mojibake
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

EXPORTS = Path(__file__).resolve().parent / "fixtures" / "exports"
BAKERY = Path(__file__).resolve().parent.parent / "examples" / "bakery"
IG_POSTS = "your_instagram_activity/content/posts_1.json"
IG_REELS = "your_instagram_activity/content/reels.json"
IG_COMMENTS = "your_instagram_activity/comments/post_comments_1.json"
IG_PROFILE = "personal_information/personal_information/personal_information.json"
FB_POSTS = "your_facebook_activity/posts/your_posts_1.json"
FB_COMMENTS = "your_facebook_activity/comments_and_reactions/comments.json"


def fixture(path: str) -> bytes:
    return (EXPORTS / path).read_bytes()


def load(path: str, name: str | None = None) -> tuple[str, LoadedDocument]:
    """(loader name, document) for a fixture, chosen as the ingestor chooses."""
    name = name or path
    data = fixture(path)
    loader = loader_for(name, data)
    assert loader is not None, name
    return loader.name, loader.load(data, name)


def units(doc: LoadedDocument) -> list[str]:
    assert all(s.records for s in doc.sections)  # each post/product is a chunk of its own
    return [u for s in doc.sections for u in s.units]


def make_zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def new_agent(app: Doppel, slug: str = "bakery") -> Agent:
    return app.agents.create(AgentSpec(slug=slug, name=slug.title()))


def stored(app: Doppel, agent: Agent) -> list[str]:
    return [r[0] for r in app.db.connect().execute(
        "SELECT source FROM documents WHERE agent_id = ? ORDER BY source", (agent.id,))]


def chunk_texts(app: Doppel, agent: Agent, source: str) -> list[str]:
    return [r[0] for r in app.db.connect().execute(
        "SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE c.agent_id = ? AND d.source = ? ORDER BY c.ord", (agent.id, source))]


def small_app(tmp_path: Path, **limits: Any) -> Doppel:
    settings = Settings(home=tmp_path / "home", models_home=tmp_path / "models", **limits)
    return Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())


# --- Meta's mojibake ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,fixed", [
    ("caf\u00c3\u00a9", "café"),
    ("\u00f0\u009f\u0098\u008a", "😊"),
    ("plain ascii", "plain ascii"),
    ("café", "café"),            # already right: é alone is no UTF-8 sequence
    ("naïve ✓", "naïve ✓"),      # beyond Latin-1: cannot be mojibake
    ("\u00c3", "\u00c3"),        # a lone lead byte does not decode: left alone
])
def test_fix_mojibake(raw: str, fixed: str) -> None:
    assert fix_mojibake(raw) == fixed


# --- Instagram ------------------------------------------------------------------------------------

def test_instagram_posts() -> None:
    name, doc = load(f"instagram/{IG_POSTS}", IG_POSTS)
    assert (name, doc.title) == ("instagram", "Instagram posts")
    assert units(doc) == ["2024-05-03: New sourdough loaves today 🍞",
                          "2024-05-06: Our café is open on Sundays from 9 to 2 😊"]
    assert doc.skipped == [("post 3 (2024-05-07)", "no text (media only)"),
                           ("post 4", "missing creation_timestamp")]
    assert doc.items == 2


def test_instagram_reels_and_own_comments() -> None:
    name, reels = load(f"instagram/{IG_REELS}", IG_REELS)
    assert (name, reels.title) == ("instagram", "Instagram reels")
    assert units(reels) == ["2024-05-18: How we shape a baguette — in 30 seconds"]
    assert reels.skipped == [("reel 2 (2024-05-18)", "no text (media only)")]

    name, comments = load(f"instagram/{IG_COMMENTS}", IG_COMMENTS)
    assert (name, comments.title) == ("instagram", "Instagram comments")
    assert units(comments) == [
        "2024-05-19: (comment on @lena.bakes's post) Thank you! See you Saturday 😊",
        "2024-05-20: Gluten-free loaves are baked on Fridays."]
    assert comments.skipped == []


def test_instagram_stories_are_media_items_themselves() -> None:
    data = json.dumps({"ig_stories": [
        {"uri": "a.mp4", "creation_timestamp": 1714723200,
         "title": "Fresh bagels 🥯".encode().decode("latin-1")},  # as Meta writes it
        {"uri": "b.jpg", "creation_timestamp": 1714723200, "title": ""},
        {"uri": "c.jpg", "creation_timestamp": "soon", "title": "Later"}]}).encode()
    loader = loader_for("stories.json", data)
    assert loader is not None and loader.name == "instagram"
    doc = loader.load(data, "stories.json")
    assert (doc.title, units(doc)) == ("Instagram stories", ["2024-05-03: Fresh bagels 🥯"])
    assert doc.skipped == [("story 2 (2024-05-03)", "no text (media only)"),
                           ("story 3", "invalid date")]


def test_instagram_files_are_recognised_by_content_too() -> None:
    """Renamed or moved out of the export, the files are still told from a FAQ."""
    for path, title in ((IG_POSTS, "Instagram posts"), (IG_REELS, "Instagram reels"),
                        (IG_COMMENTS, "Instagram comments")):
        name, doc = load(f"instagram/{path}", "downloads/export.json")
        assert (name, doc.title) == ("instagram", title)


# --- Facebook -------------------------------------------------------------------------------------

def test_facebook_posts_skip_shares_and_memories() -> None:
    name, doc = load(f"facebook/{FB_POSTS}", FB_POSTS)
    assert (name, doc.title) == ("facebook", "Facebook posts")
    assert units(doc) == [
        "2024-05-03: Fresh rye bread is back — café open till 6.",
        # a shared link with the owner's own words: the words are kept, with the link
        "2024-05-06: A lovely piece about why we bake with rye (https://news.example/rye)"]
    assert doc.skipped == [
        ("post 2 (2024-05-04)", "share of someone else's post (not your words)"),
        ("post 3 (2024-05-05)", "memory re-share (repeats an older post)"),
        ("post 5 (2024-05-07)", "no text (media only)")]


def test_facebook_comments() -> None:
    name, doc = load(f"facebook/{FB_COMMENTS}", FB_COMMENTS)
    assert (name, doc.title) == ("facebook", "Facebook comments")
    assert units(doc) == ["2024-05-08: We open at 7 on weekdays 😊"]
    assert doc.skipped == [("comment 2 (2024-05-09)", "no text (media only)")]


# --- X --------------------------------------------------------------------------------------------

def test_x_archive_tweets() -> None:
    name, doc = load("x/data/tweets.js", "data/tweets.js")
    assert (name, doc.title) == ("x", "X posts")
    assert units(doc) == [
        "2024-05-03: New this week: rye & caraway loaf, cardamom buns "
        "https://juniper.example/menu",
        "2024-05-05: (reply to @lena_k) Yes, the country sourdough is vegan <3",
        "2024-05-06: Look at that crumb"]  # the t.co link to its own photo is gone
    assert doc.skipped == [
        ("post 1786000000000000002", "retweet (not your words)"),
        ("post 1786000000000000005 (2024-05-07)", "no text (media only)"),
        ("post 1786000000000000006", "missing full_text")]


def test_x_archive_other_data_is_refused_with_a_reason() -> None:
    with pytest.raises(IngestError, match="'like' data is not imported"):
        load("x/data/like.js", "data/like.js")
    assert loader_for("assets/js/main.js", b"!function(e){}") is None


def test_x_retweeted_status_and_older_bare_items() -> None:
    data = ("window.YTD.tweet.part0 = " + json.dumps([
        {"id_str": "1", "created_at": "Wed Oct 10 20:19:24 +0000 2018", "full_text": "Open today"},
        {"tweet": {"id_str": "2", "created_at": "Wed Oct 10 20:19:24 +0000 2018",
                   "full_text": "Quoted", "retweeted_status": {"id_str": "0"}}},
        {"tweet": {"id_str": "3", "created_at": "yesterday", "full_text": "When?"}},
    ])).encode()
    doc = loader_for("tweet.js", data).load(data, "tweet.js")  # type: ignore[union-attr]
    assert units(doc) == ["2018-10-10: Open today"]
    assert doc.skipped == [("post 2", "retweet (not your words)"),
                           ("post 3", "missing created_at")]


# --- captions -------------------------------------------------------------------------------------

def test_youtube_auto_captions_vtt() -> None:
    name, doc = load("youtube/How we bake sourdough.en.vtt")
    assert (name, doc.title) == ("captions", "How we bake sourdough (video captions)")
    assert units(doc) == [
        "[00:00] welcome to the bakery. today we bake sourdough.",
        "[02:15] first we feed the starter. then we mix the dough & rest it. "
        "it bakes at 250 degrees.",
        "[02:23] after that, we let it cool."]


def test_srt_captions() -> None:
    name, doc = load("youtube/opening-hours.srt")
    assert (name, doc.title) == ("captions", "opening-hours (video captions)")
    assert units(doc) == [
        "[00:01] Hello and welcome! We're open Tuesday to Sunday, from 7 in the morning. "
        "On Mondays we rest.",
        "[00:09] Come and say hi."]


def test_captions_without_punctuation_and_past_an_hour() -> None:
    words = " ".join(["bread"] * 120)  # auto-captions often have no full stop at all
    vtt = f"WEBVTT\n\n01:02:03.000 --> 01:02:09.000\n{words}\n\n01:02:10.000 --> 01:02:11.000\nok"
    paragraphs = caption_paragraphs(vtt)
    assert paragraphs[0].startswith("[1:02:03] bread bread")
    assert all(len(p) <= 520 for p in paragraphs)
    assert " ".join(p.split("] ", 1)[1] for p in paragraphs) == f"{words} ok"
    with pytest.raises(IngestError, match="no caption text"):
        loader_for("x.vtt").load(b"WEBVTT\n\nNOTE nothing\n", "x.vtt")  # type: ignore[union-attr]


# --- generic posts --------------------------------------------------------------------------------

def test_generic_posts_csv() -> None:
    name, doc = load("posts/scheduled-posts.csv")
    assert (name, doc.title) == ("posts", "scheduled posts (posts)")
    assert units(doc) == ["2024-04-01: Hot cross buns are back until Easter!",
                          "2024-04-11: Sourdough workshop: 3 seats left, sign up in the shop.",
                          "We bake gluten-free on Fridays."]
    assert doc.skipped == [("post 2", "no text")]


def test_generic_posts_json() -> None:
    data = json.dumps({"posts": [
        {"Message": "Closed on Easter Monday.", "created_at": "2024-03-30T10:00:00+01:00"},
        {"message": "   ", "created_at": "2024-03-31"},
        "not a post",
    ]}).encode()
    loader = loader_for("newsletter.json", data)
    assert loader is not None and loader.name == "posts"
    doc = loader.load(data, "newsletter.json")
    assert units(doc) == ["2024-03-30: Closed on Easter Monday."]
    assert doc.skipped == [("post 2", "no text"), ("post 3", "not a post")]


# --- catalogs -------------------------------------------------------------------------------------

def test_shopify_products() -> None:
    name, doc = load("shopify/products_export_1.csv")
    assert (name, doc.title) == ("shopify", "Shopify products")
    assert units(doc) == [
        "Country Sourdough — Bread. Sizes: Small $6.50, Large $9.00 (was $11.00). Naturally "
        "leavened, 48-hour ferment. Baked daily & best within 3 days. Tags: sourdough, vegan.",
        "Cardamom Bun — Pastry. Price: $3.75 (sold out). Swedish-style bun with cardamom sugar."]
    assert doc.skipped == [("Pumpkin Loaf", "draft product (not active)"),
                           ("Olive Focaccia", "not published")]


def test_woocommerce_products() -> None:
    name, doc = load("woocommerce/wc-product-export-6-5-2024.csv")
    assert (name, doc.title) == ("woocommerce", "WooCommerce products")
    assert units(doc) == [
        "Rye Loaf — Bread > Rye. Sizes: Half $4.50, Whole $8.00 (on sale $7.00) (out of stock). "
        "Dark rye with caraway. Baked every Friday. Tags: rye.",
        "Gift Box — Gifts. Price: $24.00. A box of six pastries."]
    assert doc.skipped == [("Ghost Cake - Small", "variation without its parent product"),
                           ("Stollen", "draft (not published)")]


CATALOG = (b"Product,Price,Description,Category,Allergens\n"
           b"Oat Cookie,2.5,<p>Chewy &amp; golden.</p>,Cookies,oats\n"
           b",3,Nameless,Cookies,\n"
           b"Linzer Torte,\"1,250\",Whole cake,Cakes,nuts\n"
           b"Apple Strudel,\"4,50 \xe2\x82\xac\",,Pastry,\n")


def test_generic_catalog_is_sniffed_from_name_and_price_headers() -> None:
    loader = loader_for("price-list.csv", CATALOG)
    assert loader is not None and loader.name == "catalog"
    doc = loader.load(CATALOG, "price-list.csv")
    assert doc.title == "price list (product catalog)"
    assert units(doc) == ["Oat Cookie — Cookies. Price: $2.50. Chewy & golden. Allergens: oats.",
                          "Linzer Torte — Cakes. Price: $1250.00. Whole cake. Allergens: nuts.",
                          "Apple Strudel — Pastry. Price: 4,50 €."]
    assert doc.skipped == [("row 3", "no product name")]


def test_catalog_with_an_explicit_mapping() -> None:
    data = b"Artikel,Preis,Info,Kategorie\nBrezel,1.20,Laugengeb\xc3\xa4ck,Backwaren\n"
    assert loader_for("artikel.csv", data).name == "csv"  # type: ignore[union-attr]
    mapping = CatalogMapping(name="Artikel", price="Preis", description="Info",
                             category="Kategorie", currency="€")
    doc = load_catalog(data, "artikel.csv", mapping)
    assert units(doc) == ["Brezel — Backwaren. Price: €1.20. Laugengebäck."]
    with pytest.raises(IngestError, match="no column 'Cost'"):
        load_catalog(data, "artikel.csv", CatalogMapping(name="Artikel", price="Cost"))
    with pytest.raises(IngestError, match="no product name column"):
        load_catalog(data, "artikel.csv")


@pytest.mark.parametrize("name,data,expected", [
    ("prices.csv", (BAKERY / "prices.csv").read_bytes(), "csv"),   # item,price: plain records
    ("animals.csv", b"name,sound\nOwl,hoot\n", "csv"),
    ("faq.json", (BAKERY / "faq.yaml").read_bytes(), "faq"),
    ("faq.json", b'[{"question": "Open?", "answer": "Yes", "text": "x"}]', "faq"),
    ("faq.json", None, "faq"),
    ("your_posts_1.json", None, "faq"),          # a bare name is not enough to claim
    (f"ig/{IG_POSTS}", None, "instagram"),       # ... a path inside the export is
    (f"x/{FB_POSTS}", None, "facebook"),
    ("archive/data/tweets.js", None, "x"),
    ("talk.VTT", None, "captions"),
    ("products_export.csv", fixture("shopify/products_export_1.csv"), "shopify"),
    ("wc.csv", fixture("woocommerce/wc-product-export-6-5-2024.csv"), "woocommerce"),
    ("blog.csv", b"title,body,date\nHi,Hello there,2024-01-01\n", "posts"),
    ("shop.csv", b"name,price,body\nBun,3,Soft\n", "catalog"),  # product headers win
])
def test_loader_for_sniffs_before_the_suffix(name: str, data: bytes | None,
                                              expected: str) -> None:
    loader = loader_for(name, data)
    assert loader is not None and loader.name == expected


# --- ingesting exports ----------------------------------------------------------------------------

def instagram_zip() -> bytes:
    """An Instagram export laid out as Meta ships it: JSON next to the media and macOS noise."""
    root = EXPORTS / "instagram"
    entries = {p.relative_to(root).as_posix(): p.read_bytes()
               for p in sorted(root.rglob("*")) if p.is_file()}
    entries |= {
        "media/posts/202405/431_1.jpg": b"\xff\xd8\xff\xe0" + bytes(64),
        "media/posts/202405/432_1.heic": bytes(64),
        "media/reels/202405/501.mp4": bytes(64),
        "your_instagram_activity/messages/inbox/lena_123/message_1.json":
            b'{"participants": [{"name": "Lena"}], "messages": [{"content": "private"}]}',
        "__MACOSX/your_instagram_activity/content/._posts_1.json": b"\x00\x05\x16\x07",
        ".DS_Store": b"\x00\x00\x00\x01Bud1",
    }
    return make_zip(entries)


EXPECTED_IG = [
    ("instagram.zip/personal_information/personal_information/personal_information.json",
     "skipped", 0, "no question/answer entries found"),
    ("instagram.zip/your_instagram_activity/comments/post_comments_1.json", "added", 2, ""),
    ("instagram.zip/your_instagram_activity/content/posts_1.json", "added", 2, ""),
    ("instagram.zip/your_instagram_activity/content/reels.json", "added", 1, ""),
    ("instagram.zip/your_instagram_activity/messages/inbox/lena_123/message_1.json", "skipped",
     0, "not imported: of your Instagram activity only posts, reels, stories and comments are"),
    ("instagram.zip/media/posts/202405/431_1.jpg", "skipped", 0, "media file"),
    ("instagram.zip/media/posts/202405/432_1.heic", "skipped", 0, "media file"),
    ("instagram.zip/media/reels/202405/501.mp4", "skipped", 0, "media file"),
    ("instagram.zip/__MACOSX/your_instagram_activity/content/._posts_1.json", "skipped", 0,
     "system file"),
    ("instagram.zip/.DS_Store", "skipped", 0, "system file"),
]


def test_instagram_export_zip_is_imported_item_by_item(app: Doppel) -> None:
    agent = new_agent(app)
    reports = app.ingestor.ingest_upload(agent, "instagram.zip", instagram_zip())

    assert [(r.source, r.status, r.items, r.reason) for r in reports] == EXPECTED_IG
    by_source = {r.source: r for r in reports}
    posts = by_source[f"instagram.zip/{IG_POSTS}"]
    assert posts.chunks == 2
    assert posts.skipped_items == [("post 3 (2024-05-07)", "no text (media only)"),
                                   ("post 4", "missing creation_timestamp")]
    assert posts.line() == (f"added instagram.zip/{IG_POSTS} (2 chunks; 2 items, 2 left out: "
                            "1 × no text (media only), 1 × missing creation_timestamp)")
    assert by_source["instagram.zip/.DS_Store"].line() == "skipped instagram.zip/.DS_Store: " \
        "system file"
    json.dumps([asdict(r) for r in reports])  # the API and the console send these as JSON

    assert chunk_texts(app, agent, f"instagram.zip/{IG_POSTS}") == [
        "2024-05-03: New sourdough loaves today 🍞",
        "2024-05-06: Our café is open on Sundays from 9 to 2 😊"]
    row = app.db.connect().execute("SELECT loader, title FROM documents WHERE source = ?",
                                   (f"instagram.zip/{IG_COMMENTS}",)).fetchone()
    assert (row["loader"], row["title"]) == ("instagram", "Instagram comments")
    hits = app.index.search(agent.id, "gluten-free loaves Fridays", 1)
    assert hits and hits[0].text == "2024-05-20: Gluten-free loaves are baked on Fridays."


def test_reimporting_the_same_zip_changes_nothing(app: Doppel) -> None:
    agent = new_agent(app)
    data = instagram_zip()
    first = app.ingestor.ingest_upload(agent, "instagram.zip", data)
    before = stored(app, agent)
    again = app.ingestor.ingest_upload(agent, "instagram.zip", data)

    added = {r.source for r in first if r.status == "added"}
    assert len(added) == 3
    assert all(r.status == "unchanged" for r in again if r.source in added)
    assert [(r.source, r.reason) for r in again if r.source not in added] == \
        [(r.source, r.reason) for r in first if r.source not in added]
    assert stored(app, agent) == before


def test_ingest_from_disk_expands_zips_and_reads_export_folders(app: Doppel,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "instagram.zip").write_bytes(instagram_zip())
    agent = new_agent(app)
    seen: list[FileReport] = []
    report = app.ingestor.ingest(agent, [tmp_path / "instagram.zip", EXPORTS], progress=seen.append)

    assert seen == report.files
    got = {f.source: (f.status, f.items, len(f.skipped_items), f.reason) for f in report.files}
    assert [(s, got[s][0], got[s][1], got[s][3]) for s, *_ in EXPECTED_IG] == EXPECTED_IG
    assert {s: got[s] for s in got if not s.startswith("instagram.zip/")} == {
        f"facebook/{FB_COMMENTS}": ("added", 1, 1, ""),
        f"facebook/{FB_POSTS}": ("added", 2, 3, ""),
        f"instagram/{IG_COMMENTS}": ("added", 2, 0, ""),
        f"instagram/{IG_POSTS}": ("added", 2, 2, ""),
        f"instagram/{IG_REELS}": ("added", 1, 1, ""),
        f"instagram/{IG_PROFILE}": ("skipped", 0, 0, "no question/answer entries found"),
        "posts/scheduled-posts.csv": ("added", 3, 1, ""),
        "shopify/products_export_1.csv": ("added", 2, 2, ""),
        "woocommerce/wc-product-export-6-5-2024.csv": ("added", 2, 2, ""),
        "x/data/like.js": ("skipped", 0, 0,
                           "X archive 'like' data is not imported (only your posts, "
                           "data/tweets.js)"),
        "x/data/tweets.js": ("added", 3, 3, ""),
        "youtube/How we bake sourdough.en.vtt": ("added", 3, 0, ""),
        "youtube/opening-hours.srt": ("added", 2, 0, ""),
    }


def test_a_file_with_no_usable_item_is_skipped_with_the_reasons(app: Doppel) -> None:
    agent = new_agent(app)
    data = json.dumps([{"media": [{"uri": "a.jpg", "creation_timestamp": 1714723200}]},
                       {"media": [{"uri": "b.jpg", "creation_timestamp": 1714723200,
                                   "title": ""}]},
                       {"media": [{"uri": "c.jpg", "title": "no time"}]}]).encode()
    report = app.ingestor.ingest_bytes(agent, data, f"export/{IG_POSTS}")
    assert report.status == "skipped"
    assert report.reason == ("nothing usable (2 × no text (media only), "
                             "1 × missing creation_timestamp)")
    assert report.skipped_items == [("post 1 (2024-05-03)", "no text (media only)"),
                                    ("post 2 (2024-05-03)", "no text (media only)"),
                                    ("post 3", "missing creation_timestamp")]
    assert stored(app, agent) == []


def test_unsupported_and_nested_entries_and_odd_names(app: Doppel, tmp_path: Path) -> None:
    agent = new_agent(app)
    data = make_zip({
        "../../etc/evil.md": b"# Evil\n\nTraversal is only a name here.\n",
        "/abs/notes.txt": b"Absolute paths lose their slash.",
        "C:\\Users\\sam\\hours.txt": b"Open 7 to 6.",
        "menu.md": b"# Menu\n\nRye.\n",
        "./menu.md": b"# Menu\n\nA second menu.\n",
        "report.docx": b"PK\x03\x04 not really",
        "inner/more.zip": make_zip({"a.txt": b"hidden"}),
        "empty/": b"",
    })
    reports = app.ingestor.ingest_upload(agent, "upload.zip", data)

    assert [(r.source, r.status, r.reason) for r in reports] == [
        ("upload.zip/etc/evil.md", "added", ""),
        ("upload.zip/abs/notes.txt", "added", ""),
        ("upload.zip/Users/sam/hours.txt", "added", ""),
        ("upload.zip/menu.md", "added", ""),
        ("upload.zip/report.docx", "skipped", "unsupported file type '.docx'"),
        ("upload.zip/menu.md", "skipped", "duplicate name in the zip"),
        ("upload.zip/inner/more.zip", "skipped",
         "nested zip (not expanded: unzip it and import what it holds)"),
    ]
    assert not list(tmp_path.rglob("evil.md"))  # entries are never written anywhere
    assert chunk_texts(app, agent, "upload.zip/menu.md") == ["Rye."]


# --- refused archives: nothing at all is imported -------------------------------------------------

def refused(app: Doppel, data: bytes, name: str = "export.zip") -> str:
    agent = new_agent(app, "refused")
    reports = app.ingestor.ingest_upload(agent, name, data)
    assert [(r.source, r.status) for r in reports] == [(name, "skipped")]
    assert stored(app, agent) == []
    return reports[0].reason


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 this is not really a zip",
                                  b"plain text", make_zip({"a.md": b"# A\n\nText.\n"})[:40]])
def test_corrupt_zip(app: Doppel, data: bytes) -> None:
    assert refused(app, data) == "not a readable zip file"


def test_damaged_entry_refuses_the_whole_zip(app: Doppel) -> None:
    data = bytearray(make_zip({"a.md": b"# A\n\nFine.\n", "b.md": b"# B\n\n" + b"word " * 200},
                              zipfile.ZIP_STORED))
    at = data.index(b"word word")
    data[at:at + 4] = b"WORD"  # the CRC no longer matches
    assert refused(app, bytes(data)).startswith("not a readable zip file (Bad CRC-32")


def test_zip_bomb_by_compression_ratio(app: Doppel) -> None:
    bomb = make_zip({"notes.md": b"# Good\n\nText.\n", "big.txt": bytes(50 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # 50 MB of zeros deflate to ~50 KB
    reason = refused(app, bomb)
    assert reason == "big.txt is compressed over 200:1 (a zip bomb?), DOPPEL_MAX_ARCHIVE_RATIO"


def test_zip_over_the_total_size(tmp_path: Path) -> None:
    app = small_app(tmp_path, max_archive_bytes=200_000)
    try:
        # each entry alone is fine (100 KB); together they pass 200 KB
        data = make_zip({f"part{i}.txt": b"Bread. " * 15_000 for i in range(3)})
        assert refused(app, data) == ("the zip expands to 0.3 MB; the limit is 0.2 MB, "
                                      "DOPPEL_MAX_ARCHIVE_BYTES")
    finally:
        app.close()


def test_zip_whose_declared_sizes_lie(app: Doppel) -> None:
    """A zip that declares a 2 MB entry 100 bytes long passes the size checks; reading it
    stops at the declared size and the whole archive is refused."""
    real = b"x" * (2 * 1024 * 1024)
    data = bytearray(make_zip({"small.txt": real}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        assert struct.unpack("<I", data[at:at + 4]) == (len(real),)
        data[at:at + 4] = struct.pack("<I", 100)
    assert refused(app, bytes(data)).startswith("not a readable zip file")


def test_too_many_entries(tmp_path: Path) -> None:
    app = small_app(tmp_path, max_archive_files=3)
    try:
        data = make_zip({f"note{i}.txt": b"Bread." for i in range(4)})
        assert refused(app, data) == ("too many entries in the zip (4; the limit is 3, "
                                      "DOPPEL_MAX_ARCHIVE_FILES)")
    finally:
        app.close()


def test_encrypted_zip(app: Doppel) -> None:
    data = bytearray(make_zip({"a.txt": b"secret"}, zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + offset] |= 0x1  # the 'encrypted' flag bit
    assert refused(app, bytes(data)) == "encrypted zip: password-protected entries cannot be read"


def test_expand_returns_entries_and_noise(settings: Settings) -> None:
    files, skipped = expand("x.zip", make_zip({"a/b.md": b"# B\n", "a/c.png": b"png"}),
                            settings)
    assert files == [("x.zip/a/b.md", b"# B\n")]
    assert skipped == [("x.zip/a/c.png", "media file")]


# --- reports and forced loaders -------------------------------------------------------------------

def test_file_report_line_and_json() -> None:
    report = FileReport("x.csv", "added", chunks=3, items=3,
                        skipped_items=[("row 4", "no product name"), ("row 9", "no product name")])
    assert report.line() == "added x.csv (3 chunks; 3 items, 2 left out: 2 × no product name)"
    assert json.loads(json.dumps(asdict(report)))["skipped_items"] == [
        ["row 4", "no product name"], ["row 9", "no product name"]]
    assert FileReport("m.md", "added", chunks=2).line() == "added m.md (2 chunks)"


def test_forced_catalog_mapping_rereads_unchanged_bytes(app: Doppel) -> None:
    agent = new_agent(app)
    data = b"Artikel,Preis,Notiz\nBrezel,1.20,salty\n"
    plain = app.ingestor.ingest_bytes(agent, data, "artikel.csv")
    assert (plain.status, chunk_texts(app, agent, "artikel.csv")) == (
        "added", ["Artikel: Brezel; Preis: 1.20; Notiz: salty"])
    assert app.ingestor.ingest_bytes(agent, data, "artikel.csv").status == "unchanged"

    mapped = app.ingestor.ingest_bytes(agent, data, "artikel.csv",
                                       loader=CatalogLoader(CatalogMapping("Artikel", "Preis")))
    assert (mapped.status, mapped.items) == ("updated", 1)
    assert chunk_texts(app, agent, "artikel.csv") == ["Brezel. Price: $1.20. Notiz: salty."]
