"""The Content-Security-Policy in a real headless Chromium: the chat page, the widget on another
site and the console work under it, and the browser reports no violation."""

from __future__ import annotations

import re
from typing import Any

from doppel.service import Doppel
from doppel.testing import FakeChatBackend
from tests.conftest import needs_chromium

pytestmark = needs_chromium

# Runs before any page script (injected by the browser, not subject to the page's policy).
_WATCH = ("window.__csp = [];"
          "document.addEventListener('securitypolicyviolation', e =>"
          " window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));")


def _watched(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context()
    context.add_init_script(_WATCH)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    return context, page, messages


def _violations(page: Any, messages: list[str]) -> list[str]:
    found = [v for frame in page.frames for v in (frame.evaluate("window.__csp || []"))]
    return found + [m for m in messages if "Content Security Policy" in m]


def test_the_chat_page_and_the_widget_run_under_the_policy(server: str, browser: Any,
                                                           fake_backend: FakeChatBackend
                                                           ) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]
    context, page, messages = _watched(browser)
    page.goto(f"{server}/a/bakery")
    page.fill("#q", "How much is an almond croissant?")
    page.click("form#ask button")
    page.locator(".msg.bot.done").wait_for(timeout=10_000)
    assert "$5.25" in page.locator(".msg.bot.done p").inner_text()
    assert _violations(page, messages) == []

    # another site embeds the widget: the chat opens in its frame and answers there
    page.set_content(f'<html><body><h1>Shop</h1><script src="{server}/widget.js" '
                     f'data-agent="bakery"></script></body></html>')
    page.locator("button[aria-label='Open chat']").click()
    frame = page.frame_locator("iframe[title='Chat']")
    frame.locator("#q").fill("How much is an almond croissant?")
    frame.locator("form#ask button").click()
    # the frame shows the conversation kept from the page above, then this answer
    frame.locator(".msg.bot.done").nth(1).wait_for(timeout=10_000)
    assert _violations(page, messages) == []
    context.close()


def test_the_console_runs_under_the_policy(server: str, server_app: Doppel, browser: Any,
                                           fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["The Almond Croissant is $5.25."]
    import httpx

    httpx.post(f"{server}/v1/chat/completions", trust_env=False, json={
        "model": "bakery", "messages": [{"role": "user", "content": "almond croissant price?"}]})
    context, page, messages = _watched(browser)
    page.goto(f"{server}/console/login")
    page.fill("input[name=key]", server_app.keys["alice"])  # type: ignore[attr-defined]
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/agents$"))
    page.goto(f"{server}/console/agents/bakery/analytics")
    assert page.locator("svg").count() >= 1
    # the period picker submits itself on change (an inline handler, allowed by its hash)
    with page.expect_navigation():
        page.select_option("select[name=days]", "90")
    assert "days=90" in page.url
    page.goto(f"{server}/console/agents/bakery/import")  # console.js: the drop zone
    page.set_input_files("#files", files=[{"name": "big.txt", "mimeType": "text/plain",
                                           "buffer": b"x" * 10}])
    assert _violations(page, messages) == []
    context.close()
