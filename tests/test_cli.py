"""The CLI through click's runner, on a real SQLite file with the shipped fakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from doppel.cli import main
from doppel.service import Doppel
from doppel.testing import FakeChatBackend

from .conftest import EXAMPLES


def run(app: Doppel, *args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), obj={"app": app}, input=input)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def created(app: Doppel) -> Doppel:
    app.settings.min_relevance = 0.08  # the fake embedder's cosine is plain word overlap
    result = run(app, "create", "juniper-rye", "--from", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    return app


def test_create_from_folder_uses_agent_yaml_and_reports_files(created: Doppel) -> None:
    agent = created.agents.get("juniper-rye")
    assert agent.spec.name == "Juniper & Rye Bakery"
    assert agent.spec.contact.phone
    stats = created.agents.stats(agent)
    assert stats["documents"] == 8 and stats["approved_answers"] > 10


def test_create_twice_is_a_one_line_error(created: Doppel) -> None:
    result = run(created, "create", "juniper-rye", "--from", str(EXAMPLES))
    assert result.exit_code == 1
    assert result.output.strip() == "error: an agent named 'juniper-rye' already exists"


def test_create_from_missing_folder(app: Doppel, tmp_path: Path) -> None:
    result = run(app, "create", "x", "--from", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "does not exist" in result.output


def test_unknown_agent_is_a_one_line_error(app: Doppel, tmp_path: Path) -> None:
    for args in (["ingest", "ghost", str(tmp_path)], ["chat", "ghost", "-m", "hi"],
                 ["agents", "show", "ghost"], ["agents", "delete", "ghost", "--yes"],
                 ["answers", "list", "ghost"]):
        result = run(app, *args)
        assert result.exit_code == 1, args
        lines = result.output.strip().splitlines()
        assert lines == ["error: no agent named 'ghost' (see `doppel agents list`)"], args


def test_ingest_reports_bad_files_by_name_and_keeps_the_rest(created: Doppel,
                                                            tmp_path: Path) -> None:
    tmp_path = tmp_path / "upload"
    tmp_path.mkdir()
    (tmp_path / "good.md").write_text("# Catering\n\nWe cater office breakfasts.\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blob.csv").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    result = run(created, "ingest", "juniper-rye", str(tmp_path))
    assert result.exit_code == 0
    out = result.output
    assert "added good.md" in out
    assert "skipped empty.txt: empty file" in out
    assert "skipped blob.csv: binary file" in out
    assert "skipped photo.jpg: unsupported file type '.jpg'" in out
    assert "1 added" in out and "3 skipped" in out


def test_reingest_without_paths_uses_recorded_sources(created: Doppel) -> None:
    result = run(created, "ingest", "juniper-rye")
    assert result.exit_code == 0 and "8 unchanged" in result.output


def test_agents_list_show_export_import_delete(created: Doppel, tmp_path: Path) -> None:
    assert "juniper-rye" in run(created, "agents", "list").output
    shown = run(created, "agents", "show", "juniper-rye").output
    assert "name: Juniper & Rye Bakery" in shown and "documents: 8" in shown
    out = tmp_path / "agent.yaml"
    assert run(created, "agents", "export", "juniper-rye", "-o", str(out)).exit_code == 0
    text = out.read_text().replace("slug: juniper-rye", "slug: juniper-two")
    out.write_text(text)
    assert run(created, "agents", "import", str(out)).exit_code == 0
    assert created.agents.get("juniper-two").spec.contact == \
        created.agents.get("juniper-rye").spec.contact
    assert run(created, "agents", "delete", "juniper-two", "--yes").exit_code == 0
    assert created.agents.find("juniper-two") is None


def test_import_of_invalid_spec_is_one_line(app: Doppel, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: Not A Slug\nname: x\n")
    result = run(app, "agents", "import", str(bad))
    assert result.exit_code == 1 and result.output.startswith("error: slug:")
    bad.write_text("slug: [unclosed\n")
    result = run(app, "agents", "import", str(bad))
    assert result.exit_code == 1 and result.output.startswith("error: invalid YAML")


def test_chat_one_shot_streams_answer_and_citations(created: Doppel,
                                                    fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["An almond croissant is $5.25."]
    result = run(created, "chat", "juniper-rye", "-m", "What does an almond croissant cost?",
                 "-v")
    assert result.exit_code == 0
    # the price row, composed without the model, its citation labelled by title
    assert "The Almond Croissant is $5.25 (contains nuts). [1]" in result.output
    assert "  [1] prices" in result.output and "prices.csv" not in result.output
    assert "path=composed" in result.output and fake_backend.calls == []
    result = run(created, "chat", "juniper-rye", "-m", "Tell me about the almond croissant",
                 "-v")
    assert result.exit_code == 0


def test_chat_interactive_reads_lines_until_eof(created: Doppel,
                                                fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["An almond croissant is $5.25."]
    result = run(created, "chat", "juniper-rye",
                 input="hello\nWhat does an almond croissant cost?\n")
    assert result.exit_code == 0
    assert result.output.count("you> ") == 2
    assert "welcome to Juniper & Rye" in result.output and "$5.25" in result.output


def test_answers_add_list_delete(created: Doppel) -> None:
    added = run(created, "answers", "add", "juniper-rye", "-q", "Do you sell gift boxes?",
                "-a", "Yes, gift boxes start at $20.")
    assert added.exit_code == 0
    answer_id = added.output.split("#")[1].strip()
    assert "Do you sell gift boxes?" in run(created, "answers", "list", "juniper-rye").output
    assert run(created, "answers", "delete", "juniper-rye", answer_id).exit_code == 0
    missing = run(created, "answers", "delete", "juniper-rye", "99999")
    assert missing.exit_code == 1


def test_config_lists_every_setting_with_help() -> None:
    result = CliRunner().invoke(main, ["config"])
    assert "DOPPEL_HOME" in result.output and "DOPPEL_N_THREADS" in result.output
    for line in result.output.strip().splitlines():
        assert len(line.split(None, 2)) == 3, line  # env var, default, help text


@pytest.mark.parametrize(("env", "line"), [
    ({"DOPPEL_DATABASE_URL": "mysql://db"}, "error: DOPPEL_DATABASE_URL: must start with "
     "postgresql://"),
    ({"DOPPEL_WEB_SEARCH_PROVIDER": "bing"}, "error: DOPPEL_WEB_SEARCH_PROVIDER: Input should "
     "be 'searxng', 'brave' or 'tavily'"),
    ({"DOPPEL_REMOTE_CONCURRENCY_TOTAL": "4"}, "error: DOPPEL_REMOTE_CONCURRENCY_TOTAL is "
     "counted in Redis: set DOPPEL_REDIS_URL too")])
def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path, env: dict[str, str],
                                             line: str) -> None:
    result = CliRunner().invoke(main, ["agents", "list"],
                                env={"DOPPEL_HOME": str(tmp_path)} | env)
    assert result.exit_code == 1
    assert result.output.strip().startswith(line), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_ingest_a_website_and_an_export_zip(created: Doppel, tmp_path: Path) -> None:
    import zipfile

    from doppel.testing import FakeWebsite

    pages = {"/": "<html><body><main><h1>Hours</h1><p>Open daily from 7am to 3pm.</p>"
                  "</main></body></html>"}
    with FakeWebsite(pages) as site:
        refused = run(created, "ingest", "juniper-rye", site.url("/"))
        assert refused.exit_code == 1 and "127.0.0.1" in refused.output
        created.settings.fetch_allow = "127.0.0.1"
        created.settings.crawl_delay_s = 0
        result = run(created, "ingest", "juniper-rye", site.url("/"))
    assert result.exit_code == 0, result.output
    assert "added 127.0.0.1" in result.output and "1 pages imported" in result.output

    export = tmp_path / "x-archive.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("data/tweets.js", 'window.YTD.tweets.part0 = [{"tweet": {"full_text": '
                    '"New rye loaves out of the oven at 7am!", "created_at": '
                    '"Wed Oct 10 20:19:24 +0000 2018", "id_str": "1"}}]')
        zf.writestr("data/tweets_media/1.jpg", b"\xff\xd8")
    result = run(created, "ingest", "juniper-rye", str(export))
    assert result.exit_code == 0, result.output
    assert "added x-archive.zip/data/tweets.js" in result.output
    assert "skipped x-archive.zip/data/tweets_media/1.jpg" in result.output


def test_a_folder_of_saved_pages_loses_its_repeated_promo(created: Doppel,
                                                          tmp_path: Path) -> None:
    site = tmp_path / "saved-site"
    site.mkdir()
    promo = "<div class='promo'><p>Join our loyalty club and get 10% off!</p></div>"
    for name, body in (("index.html", "<p>Welcome to the corner bakery.</p>"),
                       ("menu.html", "<p>Rye loaf, 7.50.</p>"),
                       ("about.html", "<p>Baking since 1998.</p>")):
        (site / name).write_text(f"<html><body><nav>Home Menu About</nav><main>{promo}"
                                 f"{body}</main><footer>© Bakery</footer></body></html>")
    result = run(created, "ingest", "juniper-rye", str(site))
    assert result.exit_code == 0, result.output
    agent = created.agents.get("juniper-rye")
    rows = created.db.connect().execute(
        "SELECT d.source, c.text FROM chunks c JOIN documents d ON d.id = c.document_id "
        "WHERE c.agent_id = ? AND d.source LIKE '%.html'", (agent.id,)).fetchall()
    texts = {r["source"]: r["text"] for r in rows}
    promo_pages = [s for s, t in texts.items() if "loyalty club" in t]
    assert len(promo_pages) == 1  # kept once, on the first page that has it
    assert "Rye loaf, 7.50." in texts["menu.html"] and "Home Menu" not in texts["menu.html"]


def test_create_without_prepared_models_leaves_no_empty_agent(tmp_path: Path) -> None:
    """No embedder prepared (`doppel init` not run): one line that says so, and no agent
    created without its content (a second try after `doppel init` is not 'already exists')."""
    from doppel.config import Settings

    app = Doppel(Settings(home=tmp_path / "home", models_home=tmp_path / "no-models"),
                 backend=FakeChatBackend())
    try:
        result = run(app, "create", "juniper-rye", "--from", str(EXAMPLES))
        assert result.exit_code == 1
        assert "doppel init" in result.output and len(result.output.strip().splitlines()) == 1
        assert app.agents.find("juniper-rye") is None
    finally:
        app.close()
