"""The public chat page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from doppel.testing import FakeChatBackend
from tests.conftest import needs_chromium

pytestmark = needs_chromium


def test_question_gets_a_streamed_answer_with_a_citation(server: str, browser: object,
                                                         fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25. Country Sourdough is $9.00."]
    context = browser.new_context(viewport={"width": 375, "height": 667})  # a phone
    page = context.new_page()
    page.goto(f"{server}/a/bakery")
    assert page.locator(".msg.bot").first.inner_text() == "Hi from bakery!"
    assert page.locator("button#human").inner_text() == "Talk to a person"

    page.fill("#q", "How much are the almond croissant and the sourdough?")
    page.click("form#ask button")
    answer = page.locator(".msg.bot.done")
    answer.wait_for(timeout=10_000)
    assert answer.locator("p").inner_text() == (
        "The Almond Croissant is $5.25. Country Sourdough is $9.00.")
    cite = answer.locator(".cites a").first
    assert cite.inner_text() == "[1] prices"  # the document's title, never a file path

    # the citation opens the passage it comes from
    with context.expect_page() as opened:
        cite.click()
    passage = opened.value
    passage.wait_for_load_state()
    assert "Almond Croissant" in passage.locator("blockquote").inner_text()

    # the page fits a phone screen: no horizontal scrolling
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    context.close()


def test_a_composed_answer_a_follow_up_and_a_reload(server: str, server_app: object,
                                                    browser: object,
                                                    fake_backend: FakeChatBackend) -> None:
    server_app.settings.compose_answers = True  # type: ignore[attr-defined]
    page = browser.new_page()
    page.goto(f"{server}/a/bakery")
    page.fill("#q", "How much is the almond croissant?")
    page.click("form#ask button")
    page.locator(".msg.bot.done").first.wait_for(timeout=10_000)
    first = page.locator(".msg.bot.done").first
    assert "5.25" in first.locator("p").inner_text()
    assert first.locator(".cites a").count() == 1
    page.fill("#q", "and the sourdough?")  # a follow-up: the thread carries the subject
    page.click("form#ask button")
    page.locator(".msg.bot.done").nth(1).wait_for(timeout=10_000)
    assert "9.00" in page.locator(".msg.bot.done").nth(1).locator("p").inner_text()
    assert fake_backend.calls == []  # composed: no model
    page.reload()  # the conversation is still there, citations included
    page.locator(".msg.bot.done").nth(1).wait_for(timeout=10_000)
    texts = page.locator(".msg").all_inner_texts()
    assert any("How much is the almond croissant?" in t for t in texts)
    assert any("9.00" in t for t in texts)
    assert page.locator(".msg.bot.done .cites a").count() == 2
    page.close()


def test_errors_are_shown_not_swallowed(server: str, browser: object) -> None:
    page = browser.new_page()
    page.goto(f"{server}/a/bakery")
    page.fill("#q", "x" * 2000)  # the input's own limit; the server then answers normally
    page.evaluate("document.getElementById('q').maxLength = 400000")
    page.fill("#q", "x" * 300_000)  # over the server's request limit
    page.click("form#ask button")
    error = page.locator(".msg.error")
    error.wait_for(timeout=10_000)
    assert "larger than" in error.inner_text()
    page.close()


def test_widget_opens_the_chat_in_a_corner(server: str, browser: object) -> None:
    page = browser.new_page()
    page.set_content(f'<html><body><h1>Shop</h1><script src="{server}/widget.js" '
                     f'data-agent="bakery"></script></body></html>')
    button = page.locator("button[aria-label='Open chat']")
    button.wait_for(timeout=10_000)
    button.click()
    frame = page.frame_locator("iframe[title='Chat']")
    frame.locator("#q").wait_for(timeout=10_000)
    assert "Hi from bakery!" in frame.locator(".msg.bot").first.inner_text()
    page.close()
