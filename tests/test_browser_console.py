"""The owner console in a real headless Chromium, on the real embedded models.

An owner signs in, creates an agent, drops a file, watches the import, reviews the facts found,
tries the agent, publishes it, and a customer gets an answer from that file on the public chat
page. Then the owner answers, in the unanswered inbox, a question the agent could not, and the
agent uses that answer from then on. A form posted from another site is refused.

With DOPPEL_SCREENSHOTS=DIR the tests save the console's screenshots there (the README's come
from `DOPPEL_SCREENSHOTS=docs/console make test PYTEST_ARGS=tests/test_browser_console.py`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from doppel.config import Settings
from doppel.service import Doppel
from tests.conftest import needs_chromium, shared_models_dir

pytestmark = [needs_chromium, pytest.mark.model]

CLASSES = """# Rosa's Pottery

## Wheel classes

Wheel classes run every Saturday from 10am to 1pm. A class costs $45 per person, clay and
firing included. Bring clothes that can get muddy.

## Open studio

The open studio is open Tuesday to Friday from 4pm to 9pm for members. Membership is $120 a
month.

## Contact

Call 555-0142 or write to rosa@pottery.example to book a class.
"""


def shoot(page: object, name: str) -> None:
    folder = os.environ.get("DOPPEL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)  # type: ignore


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Doppel]]:
    """A real server on the embedded model and MiniLM: (base URL, Rosa's admin key, service)."""
    from doppel.models.prepare import prepare_models
    from doppel.serve import create_app
    from doppel.testing import ServerThread

    settings = Settings(home=tmp_path_factory.mktemp("console-home"),
                        models_home=shared_models_dir(), seed=7, crawl_delay_s=0)
    prepare_models(settings, log=lambda m: None)
    service = Doppel(settings)
    owner = service.owners.create("Rosa")
    _, key = service.owners.create_key(owner.id, ["admin"])
    with ServerThread(create_app(doppel=service, preload=True)) as base:
        yield base, key, service
    service.close()


def sign_in(browser: object, base: str, key: str) -> object:
    context = browser.new_context(viewport={"width": 1100, "height": 800})  # type: ignore
    page = context.new_page()
    page.goto(f"{base}/console")
    assert "/console/login" in page.url
    shoot(page, "1-sign-in")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/agents")
    return page


def ask_public_chat(browser: object, base: str, slug: str, question: str) -> tuple[str, str]:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/a/{slug}")
    page.fill("#q", question)
    page.click("form#ask button")
    answer = page.locator(".msg.bot.done").last
    answer.wait_for(timeout=60_000)
    text = answer.locator("p").inner_text()
    cites = " ".join(answer.locator(".cites a").all_inner_texts())
    page.close()
    return text, cites


def test_wizard_upload_to_published_agent_answering(console: tuple[str, str, Doppel],
                                                    browser: object, tmp_path: Path) -> None:
    base, key, service = console
    page = sign_in(browser, base, key)
    page.click("text=Create your first agent")
    page.check("input[value=business]")
    page.fill("input[name=name]", "Rosa's Pottery")
    page.fill("input[name=email]", "rosa@pottery.example")
    shoot(page, "2-new-agent")
    page.click("button[type=submit] >> text=Next")
    page.wait_for_url("**/console/agents/rosa-s-pottery/import?wizard=1")

    classes = tmp_path / "classes.md"
    classes.write_text(CLASSES, encoding="utf-8")
    page.set_input_files("#files", str(classes))
    shoot(page, "3-add-content")
    page.click("#upload button[type=submit]")
    page.locator("#job[data-state=done]").wait_for(timeout=60_000)
    assert "Import finished: 1 imported" in page.locator(".status").inner_text()
    shoot(page, "4-import-report")

    page.click("text=Next: review")
    facts = page.locator("#facts").inner_text()
    assert "$45" in facts and "$120" in facts and "555-0142" in facts
    page.fill("#try-q", "How much does a wheel class cost?")
    page.click("#try button[type=submit]")
    answer = page.locator("#try-answer").inner_text()
    assert "$45" in answer
    shoot(page, "5-review-and-try")
    page.click("#publish-button")
    assert "Published!" in page.locator(".notice").inner_text()
    shoot(page, "6-published")
    assert service.agents.get("rosa-s-pottery").spec.public

    text, cites = ask_public_chat(browser, base, "rosa-s-pottery",
                                  "How much does a wheel class cost?")
    assert "$45" in text
    assert "Wheel classes" in cites and "classes.md" not in cites  # its title, not its path
    page.context.close()


def test_inbox_answer_is_used_by_the_agent(console: tuple[str, str, Doppel],
                                           browser: object) -> None:
    base, key, service = console
    if service.agents.find("rosa-s-pottery") is None:
        pytest.skip("needs the agent the wizard test publishes")
    question = "Do you sell gift vouchers?"
    first, _ = ask_public_chat(browser, base, "rosa-s-pottery", question)
    assert "$" not in first  # nothing invented: it does not know yet

    page = sign_in(browser, base, key)
    page.goto(f"{base}/console/agents/rosa-s-pottery/inbox")
    group = page.locator(".group", has_text=question)
    group.wait_for()
    shoot(page, "7-unanswered-inbox")
    reply = "Yes: gift vouchers for one wheel class are sold at the studio and by phone."
    group.locator("textarea").fill(reply)
    group.locator("button", has_text="Answer").click()
    page.wait_for_load_state()
    assert page.locator(".group", has_text=question).count() == 0

    text, _ = ask_public_chat(browser, base, "rosa-s-pottery", question)
    assert text == reply

    page.goto(f"{base}/console/agents/rosa-s-pottery/analytics")
    assert page.locator(".chart svg").count() >= 1
    shoot(page, "8-analytics")
    page.goto(f"{base}/console/agents/rosa-s-pottery/conversations")
    shoot(page, "9-conversations")
    page.context.close()


def test_a_form_posted_from_another_site_is_refused(console: tuple[str, str, Doppel],
                                                    browser: object) -> None:
    """A page on another origin auto-submits a form to the console while the owner is signed
    in: the browser sends the session cookie (same site, other port) but the request carries
    neither our CSRF token nor our Origin, so nothing changes."""
    from doppel.testing import FakeWebsite

    base, key, service = console
    if service.agents.find("rosa-s-pottery") is None:
        pytest.skip("needs the agent the wizard test publishes")
    page = sign_in(browser, base, key)
    evil = (f'<html><body><form id="f" method="post" action="{base}/console/agents/'
            f'rosa-s-pottery/publish"><input name="public" value="0"></form>'
            f'<script>document.getElementById("f").submit()</script></body></html>')
    with FakeWebsite({"/": evil}) as attacker:
        page.goto(attacker.url("/"))
        page.wait_for_url(f"{base}/console/agents/rosa-s-pottery/publish")
        assert "another site" in page.locator(".error").inner_text()
        shoot(page, "10-csrf-refused")
    assert service.agents.get("rosa-s-pottery").spec.public
    page.context.close()


def test_bad_uploads_are_explained_in_the_wizard(console: tuple[str, str, Doppel],
                                                 browser: object, tmp_path: Path) -> None:
    """A 2 GB file is refused in the page before a byte is sent; a corrupt zip and a file
    type nobody reads are reported by name after the import; nothing is half-imported."""
    import zipfile

    base, key, service = console
    page = sign_in(browser, base, key)
    page.goto(f"{base}/console/new")
    page.fill("input[name=name]", "Upload Mistakes")
    page.click("button[type=submit] >> text=Next")
    page.wait_for_url("**/console/agents/upload-mistakes/import?wizard=1")

    huge = tmp_path / "everything.zip"
    with open(huge, "wb") as f:  # sparse: 2 GB on paper, nothing on disk
        f.truncate(2 * 1024 ** 3)
    page.set_input_files("#files", str(huge))
    error = page.locator("#upload-error")
    assert error.is_visible() and "2048 MB" in error.inner_text()
    page.click("#upload button[type=submit]")
    assert "/import" in page.url and error.is_visible()  # not sent
    shoot(page, "11-upload-too-large")

    corrupt = tmp_path / "instagram-export.zip"
    corrupt.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    odd = tmp_path / "logo.psd"
    odd.write_bytes(b"8BPS\x00\x01")
    half = tmp_path / "half.zip"
    with zipfile.ZipFile(half, "w") as zf:
        zf.writestr("your_instagram_activity/content/posts_1.json",
                    '[{"media": [{"uri": "a.jpg"}]}]')  # a post with neither text nor date
    page.set_input_files("#files", [str(corrupt), str(odd), str(half)])
    page.click("#upload button[type=submit]")
    page.locator("#job[data-finished]").wait_for(timeout=60_000)
    report = page.locator("table.report").inner_text()
    assert "instagram-export.zip" in report and "zip" in report.split("instagram-export.zip")[1]
    assert "logo.psd" in report and "unsupported file type" in report
    assert "posts_1.json" in report
    assert "Nothing was imported" in page.locator(".status").inner_text()
    shoot(page, "12-import-problems")
    stats = service.agents.stats(service.agents.get("upload-mistakes"))
    assert stats["documents"] == 0 and stats["chunks"] == 0
    page.context.close()


def _instagram_export(posts: list[str]) -> bytes:
    """An Instagram "Download your information" zip (JSON), as Meta writes it: text as
    Latin-1 mojibake, epoch seconds, a photo beside each post."""
    import io
    import json
    import zipfile

    def meta(text: str) -> str:  # Meta's escaping: UTF-8 bytes read as Latin-1
        return text.encode("utf-8").decode("latin-1")

    items = [{"media": [{"uri": f"media/posts/2024{i:02d}/{i}.jpg",
                         "creation_timestamp": 1714723200 + i * 86400, "title": meta(post)}]}
             for i, post in enumerate(posts, start=1)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("your_instagram_activity/content/posts_1.json",
                    json.dumps(items, indent=2))
        for i in range(1, len(posts) + 1):
            zf.writestr(f"media/posts/2024{i:02d}/{i}.jpg", b"\xff\xd8\xff\xe0 jpeg")
    return buffer.getvalue()


def test_creator_imports_an_instagram_export_and_reviews_the_voice(
        console: tuple[str, str, Doppel], browser: object, tmp_path: Path) -> None:
    from tests.test_persona import CREATOR

    base, key, service = console
    page = sign_in(browser, base, key)
    page.goto(f"{base}/console/new")
    page.check("input[value=creator]")
    page.fill("input[name=name]", "Mira Bakes and Throws")
    page.click("button[type=submit] >> text=Next")
    page.wait_for_url("**/import?wizard=1")
    export = tmp_path / "instagram-mira-2024.zip"
    export.write_bytes(_instagram_export([p.split(": ", 1)[-1] for p in CREATOR]))
    page.set_input_files("#files", str(export))
    page.click("#upload button[type=submit]")
    page.locator("#job[data-finished]").wait_for(timeout=60_000)
    report = page.locator("table.report").inner_text()
    assert "posts_1.json" in report and "added" in report
    assert "media file" in report  # the photos are listed as left out, not silently dropped
    shoot(page, "13-instagram-import")

    page.click("text=Next: review")
    page.click("#derive-voice")
    form = page.locator("#voice-form")
    form.wait_for()
    assert "hey fam" in form.locator("textarea[name=greetings]").input_value()
    assert "xoxo" in form.locator("textarea[name=sign_offs]").input_value()
    examples = form.locator("textarea[name=examples]").input_value()
    assert examples.count("=>") >= 3
    shoot(page, "14-voice-profile")

    # an edited sample reply may not bring in a price the posts never state
    form.locator("textarea[name=examples]").fill(
        "How much are the mugs? => hey fam! Mugs are $12 each xoxo")
    form.locator("button[type=submit]").click()
    assert "$12" in page.locator("#voice .error").inner_text()
    spec = service.agents.get("mira-bakes-and-throws").spec
    assert spec.voice is not None and "$12" not in str(spec.voice.examples)
    page.context.close()
