"""Every console form, every field, bad values: each one comes back as a message on the form
(what the owner typed kept), never a 500 or a traceback, and nothing is saved.

Real HTTP (uvicorn on 127.0.0.1) through a signed-in console session; the bodies are written
by hand so that bytes which are not UTF-8, or a file where text belongs, reach the server.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import quote, quote_from_bytes

import pytest

from doppel.agents.profile import VoiceProfile
from doppel.service import Doppel
from tests.test_console import _csrf, sign_in


class File:
    """A file part posted where the form has a text field."""


@dataclass(frozen=True)
class Bad:
    path: str                   # under /console/agents/bakery unless it starts with /console/
    field: str
    value: str | bytes | type[File]
    says: str                   # part of the message shown on the form
    form: dict[str, str] = field(default_factory=dict)  # the other fields, as typed
    keep: bool = True           # the bad value itself is shown again in the form

    @property
    def id(self) -> str:
        shown = self.value if isinstance(self.value, str) else repr(self.value)
        return f"{self.path}:{self.field}={shown[:24]!r}"


NEW = {"name": "Rosa's Pottery", "kind": "business", "email": "rosa@pottery.example"}
SETTINGS = {"name": "Bakery Renamed", "contact_email": "hello@bakery.example",
            "greeting": "Welcome, typed just now"}
VOICE = {"description": "Warm and friendly, typed just now", "greetings": "Hello there"}
INBOX = {"question": "Do you sell gift cards?", "answer": "Yes, from $25 at the counter."}
SURROGATE = b"\xed\xa0\x80"  # U+D800 as UTF-8 would spell it: no valid UTF-8 has it
LONG_LINE = "x" * 501

CASES = [
    # the new-agent wizard
    Bad("/console/new", "name", "", "Name", NEW),
    Bad("/console/new", "name", "   ", "Name", NEW, keep=False),
    Bad("/console/new", "name", "R" * 121, "at most 120", NEW),
    Bad("/console/new", "name", "Rosa\x00", "not text", NEW, keep=False),
    Bad("/console/new", "name", b"Rosa \xff\xfe", "not text", NEW, keep=False),
    Bad("/console/new", "name", SURROGATE, "not text", NEW, keep=False),
    Bad("/console/new", "name", File, "not a file", NEW, keep=False),
    Bad("/console/new", "kind", "robot", "business or a creator", NEW, keep=False),
    Bad("/console/new", "email", "not-an-email", "E-mail", NEW),
    Bad("/console/new", "email", "a" * 250 + "@x.example", "at most 254", NEW),
    Bad("/console/new", "phone", "call me maybe", "Phone", NEW),
    Bad("/console/new", "phone", "9" * 60, "at most 40", NEW),
    Bad("/console/new", "url", "my shop", "web address", NEW),
    Bad("/console/new", "url", "javascript:alert(1)", "web address", NEW),
    Bad("/console/new", "url", "https://" + "a" * 2000 + ".example", "at most 2000", NEW),
    Bad("/console/new", "url", "http://user:pass@example.com/", "password", NEW, keep=False),
    # settings: the agent, contact, competitors, topics, owner rules with examples
    Bad("settings", "name", "", "Name", SETTINGS),
    Bad("settings", "name", "B" * 121, "at most 120", SETTINGS),
    Bad("settings", "name", "Bakery\x07", "not text", SETTINGS, keep=False),
    Bad("settings", "greeting", "G" * 501, "at most 500", SETTINGS),
    Bad("settings", "persona", "P" * 4001, "at most 4000", SETTINGS),
    Bad("settings", "persona", b"caf\xe9", "not text", SETTINGS, keep=False),
    Bad("settings", "rules", "Be kind\n" + LONG_LINE, "at most 500", SETTINGS),
    Bad("settings", "rules", "\n".join(f"rule {i}" for i in range(101)), "at most 100",
        SETTINGS),
    Bad("settings", "public", "maybe", "Published", SETTINGS, keep=False),
    Bad("settings", "public", File, "not a file", SETTINGS, keep=False),
    Bad("settings", "contact_name", "N" * 121, "at most 120", SETTINGS),
    Bad("settings", "contact_email", "hello at bakery", "E-mail", SETTINGS),
    Bad("settings", "contact_phone", "ring ring", "Phone", SETTINGS),
    Bad("settings", "contact_phone", "1" * 41, "at most 40", SETTINGS),
    Bad("settings", "contact_url", "my shop", "web address", SETTINGS),
    Bad("settings", "contact_url", "javascript:alert(1)", "web address", SETTINGS),
    Bad("settings", "contact_url", "https://ann:hunter2@bakery.example/", "password", SETTINGS,
        keep=False),
    Bad("settings", "contact_hours", "H" * 201, "at most 200", SETTINGS),
    Bad("settings", "competitors", "Rye & Co\n" + "C" * 201, "at most 200", SETTINGS),
    Bad("settings", "forbidden_topics", "politics\n\x01", "not text", SETTINGS, keep=False),
    Bad("settings", "rule_name", "Bad Name!", "Short name", SETTINGS | {
        "rule_description": "Medical advice", "rule_examples": "Is gluten bad for me?"}),
    Bad("settings", "rule_name", "n" * 61, "at most 60", SETTINGS | {
        "rule_description": "Medical advice"}),
    Bad("settings", "rule_description", "Medical advice", "Short name", SETTINGS),
    Bad("settings", "rule_name", "medical", "What is off-limits", SETTINGS),
    Bad("settings", "rule_description", "D" * 501, "at most 500", SETTINGS | {
        "rule_name": "medical"}),
    Bad("settings", "rule_examples", "Is gluten bad?\n" + LONG_LINE, "at most 500",
        SETTINGS | {"rule_name": "medical", "rule_description": "Medical advice"}),
    Bad("settings", "rule_keywords", "K" * 201, "at most 200", SETTINGS | {
        "rule_name": "medical", "rule_description": "Medical advice"}),
    Bad("settings", "rule_reply", "R" * 501, "at most 500", SETTINGS | {
        "rule_name": "medical", "rule_description": "Medical advice"}),
    Bad("settings", "drop_rule", "no-such-rule", "no rule called", SETTINGS, keep=False),
    # what it can do: tools, time zone, a person taking over (secrets are never shown again)
    Bad("settings", "timezone", "Mars/Olympus", "time zone", SETTINGS | {"tools_form": "1"}),
    Bad("settings", "booking_slot_minutes", "abc", "number of minutes",
        SETTINGS | {"tools_form": "1", "tool_booking": "1"}),
    Bad("settings", "booking_slot_minutes", "5", "slot_minutes",
        SETTINGS | {"tools_form": "1", "tool_booking": "1"}),
    Bad("settings", "order_endpoint", "not a url", "web address",
        SETTINGS | {"tools_form": "1", "tool_order_status": "1"}),
    Bad("settings", "secret_order_status", "hunter2", "at least 16",
        SETTINGS | {"tools_form": "1", "tool_order_status": "1"}, keep=False),
    Bad("settings", "handoff_email", "owner-at-bakery", "E-mail",
        SETTINGS | {"tools_form": "1", "handoff_enabled": "1"}),
    # review: the test question, the voice and its sample replies, publishing
    Bad("try", "q", "", "Type a question", {}, keep=False),
    Bad("try", "q", "Q" * 2001, "at most 2000", {}),
    Bad("try", "q", "open?\x00", "not text", {}, keep=False),
    Bad("voice", "description", "D" * 4001, "at most 4000", VOICE),
    Bad("voice", "greetings", "Hi\n" + "G" * 201, "at most 200", VOICE),
    Bad("voice", "emojis", "\x1b[31m", "not text", VOICE, keep=False),
    Bad("voice", "examples", "no arrow in this line", "question => reply", VOICE),
    Bad("voice", "examples", "Open? => " + "r" * 2001, "at most 2000", VOICE),
    Bad("voice", "examples", "What is a croissant? => An Almond Croissant is $4.00 today!",
        "$4.00", VOICE),
    Bad("publish", "public", "maybe", "Publish", {}, keep=False),
    Bad("publish", "public", File, "not a file", {}, keep=False),
    # the unanswered inbox
    Bad("inbox/answer", "answer", "", "Write an answer", INBOX, keep=False),
    Bad("inbox/answer", "answer", "A" * 8001, "at most 8000", INBOX),
    Bad("inbox/answer", "answer", "Yes\x00", "not text", INBOX, keep=False),
    Bad("inbox/answer", "question", "", "Question", INBOX, keep=False),
    Bad("inbox/answer", "question", "Q" * 2001, "at most 2000", INBOX, keep=False),
    Bad("inbox/answer", "also", "S" * 2001, "at most 2000", INBOX, keep=False),
    Bad("inbox/dismiss", "question", "", "Question", {}, keep=False),
    # knowledge: a website, a file to remove
    Bad("import-url", "url", "", "web address", {}, keep=False),
    Bad("import-url", "url", "my shop", "web address", {}),
    Bad("import-url", "url", "javascript:alert(1)", "web address", {}),
    Bad("import-url", "url", "https://" + "a" * 2000 + ".example", "at most 2000", {}),
    Bad("import-url", "url", "https://bakery.example/\x00", "not text", {}, keep=False),
    Bad("documents/delete", "source", "nothing-like-it.md", "no file called", {}, keep=False),
    Bad("documents/delete", "source", "", "File", {}, keep=False),
]


def _body(case: Bad, token: str) -> tuple[bytes, str]:
    """The form as a browser would send it, with the bad value spliced in as raw bytes."""
    parts = [f"csrf={quote(token)}"]
    for name, value in (case.form | {case.field: ""}).items():
        if name == case.field:
            raw = case.value if isinstance(case.value, bytes) else str(case.value).encode()
            parts.append(f"{name}={quote_from_bytes(raw)}")
        else:
            parts.append(f"{name}={quote(value)}")
    return "&".join(parts).encode("ascii"), "application/x-www-form-urlencoded"


def _alerts(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", m))
            for m in re.findall(r'role="alert"[^>]*>(.*?)</p>', page, re.S)]


def _seed(app: Doppel) -> None:
    """The bakery has a voice to edit and an unanswered question in its inbox."""
    agent = app.agents.get("bakery")
    app.agents.update(agent.spec.model_copy(update={
        "voice": VoiceProfile(description="Warm", greetings=["Hi!"])}))
    conversation = app.conversations.get_or_create(agent.id, "visitor-9")
    app.conversations.record(
        conversation_id=conversation, agent_id=agent.id, user_message=INBOX["question"],
        answer="I don't know; call us.", path="dont_know", draft=None, grounding={},
        passages=[], prompt_tokens=0, completion_tokens=0, timings={}, model="")


def _state(app: Doppel) -> tuple[object, ...]:
    db = app.db.connect()
    return (app.agents.get("bakery").spec.model_dump(), len(app.agents.list()),
            db.execute("SELECT COUNT(*) FROM approved_answers").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM inbox_dismissals").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM import_jobs").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_value_is_a_message_on_the_form(server: str, server_app: Doppel,
                                              case: Bad) -> None:
    _seed(server_app)
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    token = _csrf(client.get("/console/agents/bakery/settings").text)
    before = _state(server_app)
    path = case.path if case.path.startswith("/console/") else \
        f"/console/agents/bakery/{case.path}"
    if case.value is File:
        r = client.post(path, data={"csrf": token, **case.form},
                        files=[(case.field, ("x.txt", b"a file", "text/plain"))])
    else:
        body, kind = _body(case, token)
        r = client.post(path, content=body, headers={"content-type": kind})
    assert r.status_code in (200, 400, 422), (r.status_code, r.text[:500])
    assert "text/html" in r.headers["content-type"]
    assert "Traceback" not in r.text and "Internal Server Error" not in r.text
    alerts = _alerts(r.text)
    assert any(case.says in a for a in alerts), alerts
    page = html.unescape(r.text)
    assert f'action="{path}' in r.text, "not the form itself, but a bare error page"
    if case.keep:
        assert str(case.value) in page, "the bad value is not shown again"
    for name, value in case.form.items():
        # the rest of what was typed is kept too (a hidden question only fills its own group)
        if name not in (case.field, "question", "kind") and case.field != "question":
            assert value in page, f"{name} typed but not kept"
    assert "user:pass@" not in page and "hunter2" not in page
    assert _state(server_app) == before, "something was saved"


def test_get_pages_with_huge_numbers_are_pages_not_errors(server: str,
                                                          server_app: Doppel) -> None:
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    huge = "9" * 30
    for path in (f"imports/{huge}", f"conversations/{huge}", f"conversations?page={huge}",
                 f"analytics?days={huge}", f"safety?days=-{huge}", "import?wizard=" + huge):
        r = client.get(f"/console/agents/bakery/{path}")
        assert r.status_code < 500 and "text/html" in r.headers["content-type"], path


def test_too_many_files_is_a_message_on_the_upload_form(server: str,
                                                        server_app: Doppel) -> None:
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    token = _csrf(client.get("/console/agents/bakery/import").text)
    files = [("files", (f"f{i}.txt", b"hello", "text/plain")) for i in range(101)]
    r = client.post("/console/agents/bakery/files", data={"csrf": token}, files=files)
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    assert any("at most 100" in a for a in _alerts(r.text)) and 'id="upload"' in r.text
    r = client.post("/console/agents/bakery/files", data={"csrf": token},
                    files=[("files", ("n" * 300 + ".txt", b"hello", "text/plain"))])
    assert r.status_code == 400 and any("File name" in a for a in _alerts(r.text))


def test_a_good_form_still_saves(server: str, server_app: Doppel) -> None:
    """The checks refuse bad values, not good ones: the same forms with good values work."""
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    token = _csrf(client.get("/console/new").text)
    r = client.post("/console/new", data={"csrf": token, "name": "Rosa's Pottery",
                                          "kind": "creator", "email": "rosa@pottery.example",
                                          "phone": "+1 (555) 014-2 ext. 7",
                                          "url": "pottery.example/contact"})
    assert r.url.path == "/console/agents/rosa-s-pottery/import", r.text[:300]
    spec = server_app.agents.get("rosa-s-pottery").spec
    assert spec.kind == "creator" and spec.contact.url == "https://pottery.example/contact"
    r = client.post("/console/agents/bakery/settings", data={
        "csrf": token, "name": "Bakery", "public": "1", "rules": "Be kind\nNo delivery dates",
        "contact_phone": "555-0142", "competitors": "Rye & Co", "forbidden_topics": "politics",
        "rule_name": "medical", "rule_description": "Medical advice",
        "rule_examples": "Is gluten bad for me?", "rule_keywords": "allergy"})
    assert r.status_code == 200 and "Saved." in r.text
    spec = server_app.agents.get("bakery").spec
    assert spec.rules == ["Be kind", "No delivery dates"] and spec.public
    assert [c.name for c in spec.shields.custom] == ["medical"]
    r = client.post("/console/agents/bakery/settings", data={
        "csrf": token, "name": "Bakery", "drop_rule": "medical"})
    assert server_app.agents.get("bakery").spec.shields.custom == []


def test_the_owner_turns_tools_on_in_settings(server: str, server_app: Doppel) -> None:
    """What it can do, from the Settings tab: tools and their settings saved in the spec, a
    secret stored and never shown again, a person taking over."""
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    bakery = server_app.agents.get("bakery")
    server_app.ingestor.ingest_bytes(bakery, b"# Opening hours\n\n| Day | Hours |\n|---|---|\n"
                                     + b"".join(f"| {d} | 8am - 4pm |\n".encode() for d in (
                                         "Monday", "Tuesday", "Wednesday", "Thursday",
                                         "Friday", "Saturday")) + b"| Sunday | Closed |\n",
                                     "hours.md")
    page = client.get("/console/agents/bakery/settings").text
    # the owner sees how the hours read before turning open_now on
    assert "How doppel reads your hours" in page
    assert "Monday: 8 am – 4 pm" in html.unescape(page) and "Sunday: closed" in page
    form = {"csrf": _csrf(page), "name": "Bakery", "tools_form": "1", "tool_open_now": "1",
            "tool_booking": "1", "booking_calendar_url": "https://cal.bakery.example/o.ics",
            "booking_slot_minutes": "45", "booking_calcom_event_type": "4242",
            "secret_calcom": "cal_live_0123456789abcdef", "tool_order_status": "1",
            "order_endpoint": "https://shop.bakery.example/doppel/orders",
            "secret_order_status": "a-very-secret-signing-key-123", "timezone": "Europe/London",
            "memory": "1", "handoff_enabled": "1", "handoff_reply_time": "Within the hour",
            "handoff_topics": "refunds\ncomplaints"}
    r = client.post("/console/agents/bakery/settings", data=form)
    assert r.status_code == 200 and "a-very-secret-signing-key-123" not in r.text
    spec = server_app.agents.get("bakery").spec
    assert spec.tool_names() == ["open_now", "order_status", "booking"]
    assert spec.tools["booking"]["slot_minutes"] == 45  # type: ignore[index]
    assert spec.tools["booking"]["calcom_event_type_id"] == 4242  # type: ignore[index]
    assert spec.timezone == "Europe/London" and spec.memory
    assert spec.handoff.topics == ["refunds", "complaints"]
    agent = server_app.agents.get("bakery")
    assert server_app.runtime.secrets.get(agent.id, "order_status.secret") == (
        "a-very-secret-signing-key-123")
    assert server_app.runtime.secrets.get(agent.id, "booking.calcom_api_key") == (
        "cal_live_0123456789abcdef")
    page = client.get("/console/agents/bakery/settings").text
    assert "a-very-secret-signing-key-123" not in page and "leave empty to keep it" in page
    assert "cal_live_0123456789abcdef" not in page
    # saved again without the secret: it is kept
    form.pop("secret_order_status")
    form["csrf"] = _csrf(page)
    client.post("/console/agents/bakery/settings", data=form)
    assert server_app.runtime.secrets.get(agent.id, "order_status.secret") == (
        "a-very-secret-signing-key-123")
