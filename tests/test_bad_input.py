"""Bad input over real HTTP: malformed JSON, wrong types, empty or unknown messages, 1 MB bodies,
invalid UTF-8, huge and broken uploads. Each must be a clear 4xx in OpenAI's error shape, never a
500 or a traceback, and must leave nothing half-stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from doppel.service import Doppel

FILE_LIMIT = 4096          # settings.max_file_bytes for these tests
UPLOAD_LIMIT = 64 * 1024   # settings.max_upload_bytes for these tests
TABLES = ("agents", "documents", "chunks", "approved_answers", "conversations", "turns",
          "api_keys", "owners")


@dataclass
class Api:
    client: httpx.Client
    app: Doppel
    alice: dict[str, str]
    seen: list[httpx.Response] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        conn = self.app.db.connect()
        return {t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}

    def documents(self, slug: str = "bakery") -> list[str]:
        r = self.client.get(f"/api/agents/{slug}/documents", headers=self.alice)
        assert r.status_code == 200, r.text
        return sorted(d["source"] for d in r.json()["data"])


def _serve(server_app: Doppel, request: pytest.FixtureRequest, file_limit: int,
           upload_limit: int) -> Iterator[Api]:
    """The server, with upload limits set before it starts, and a client that checks every
    response it gets for a 5xx or a traceback."""
    server_app.settings.max_file_bytes = file_limit
    server_app.settings.max_upload_bytes = upload_limit
    base_url = request.getfixturevalue("server")
    seen: list[httpx.Response] = []
    # verify=False: plain HTTP to 127.0.0.1 only; it skips loading the CA bundle (~30 ms a test)
    barrier = httpx.Client(base_url=base_url, timeout=30, verify=False, trust_env=False,
                           headers={"Connection": "close"})

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append(response)
        if response.status_code >= 500:
            # uvicorn logs the 500's traceback on its event loop right after answering; on
            # Python 3.11 the ast module is not thread-safe (formatting a traceback parses
            # source, and so does pytest), so wait for the logging to finish: the loop serves
            # this next request only afterwards.
            barrier.get("/healthz")

    keys = server_app.keys  # type: ignore[attr-defined]
    with barrier, httpx.Client(base_url=base_url, timeout=30, verify=False, trust_env=False,
                               event_hooks={"response": [record]}) as client:
        state = Api(client, server_app, {"Authorization": f"Bearer {keys['alice']}"}, seen)
        yield state
    bad = [(r.request.method, r.request.url.path, r.status_code, r.text[:300])
           for r in seen if r.status_code >= 500 or "Traceback" in r.text]
    assert not bad, bad


@pytest.fixture
def api(server_app: Doppel, request: pytest.FixtureRequest) -> Iterator[Api]:
    """The server with small upload limits: FILE_LIMIT per file, UPLOAD_LIMIT per upload."""
    yield from _serve(server_app, request, FILE_LIMIT, UPLOAD_LIMIT)


@pytest.fixture
def roomy_api(server_app: Doppel, request: pytest.FixtureRequest) -> Iterator[Api]:
    """The server with 1 MB limits, so that a large pathological file reaches its loader."""
    yield from _serve(server_app, request, 1 << 20, 1 << 20)


def assert_error(r: httpx.Response, status: int | range) -> dict[str, Any]:
    where = (r.request.method, r.request.url.path, r.status_code, r.text[:300])
    if isinstance(status, range):
        assert r.status_code in status, where
    else:
        assert r.status_code == status, where
    assert "Traceback" not in r.text, where
    body = r.json()
    assert set(body) == {"error"}, where
    error = body["error"]
    assert set(error) == {"message", "type", "code", "param"}, where
    assert isinstance(error["message"], str) and error["message"].strip(), where
    assert isinstance(error["type"], str) and error["type"], where
    return error


# --- the chat endpoint ---------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


def chat(text: str = "How much is a croissant?", **extra: Any) -> dict[str, Any]:
    return {"model": "bakery", "messages": [{"role": "user", "content": text}]} | extra


def raw(content: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": content, "headers": {"Content-Type": content_type}}


@dataclass(frozen=True)
class Case:
    name: str
    request: dict[str, Any]          # httpx.request kwargs; json= unless stated
    status: int | range
    param: str | None = None         # the field the error must name
    method: str = "POST"


def J(name: str, body: Any, status: int | range = 422, param: str | None = None) -> Case:
    return Case(name, {"json": body}, status, param)


def with_messages(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model": "bakery", "messages": list(messages)} | extra


USER = {"role": "user", "content": "How much is a croissant?"}

CHAT_CASES: dict[str, list[Case]] = {
    "syntax": [
        Case("malformed JSON", raw(b'{"model": "bakery", "messages": ['), 400),
        Case("trailing garbage", raw(json.dumps(chat()).encode() + b"}}"), 400),
        Case("a JSON list", raw(json.dumps([chat()]).encode()), 422),
        Case("a JSON string", raw(b'"How much is a croissant?"'), 422),
        Case("JSON null", raw(b"null"), 422),
        Case("an empty body", raw(b""), 422),
        Case("invalid UTF-8", raw(b'{"model": "bakery", "messages": [{"role": "user", '
                                  b'"content": "caf\xe9 \xff\xfe \xc3\x28"}]}'), 400),
        Case("text/plain", raw(json.dumps(chat()).encode(), "text/plain"), range(400, 500)),
        Case("a form", {"data": {"model": "bakery"}}, range(400, 500)),
        Case("GET on the POST route", {}, 405, method="GET"),
        Case("PUT on the POST route", {"json": chat()}, 405, method="PUT"),
        Case("DELETE on the POST route", {}, 405, method="DELETE"),
    ],
    "types": [
        J("model as a number", chat() | {"model": 42}, param="model"),
        J("model empty", chat() | {"model": ""}, param="model"),
        J("model missing", {"messages": [USER]}, param="model"),
        J("model too long", chat() | {"model": "b" * 65}, param="model"),
        J("messages missing", {"model": "bakery"}, param="messages"),
        J("messages as a string", chat() | {"messages": "hello"}, param="messages"),
        J("messages of strings", chat() | {"messages": ["hello"]}, param="messages.0"),
        J("content as a number", with_messages({"role": "user", "content": 42}),
          param="messages.0.content"),
        J("temperature 'hot'", chat(temperature="hot"), param="temperature"),
        J("temperature 3", chat(temperature=3), param="temperature"),
        J("top_p 0", chat(top_p=0), param="top_p"),
        J("max_tokens -1", chat(max_tokens=-1), param="max_tokens"),
        J("max_tokens 'many'", chat(max_tokens="many"), param="max_tokens"),
        J("max_tokens 1.5", chat(max_tokens=1.5), param="max_tokens"),
        J("max_completion_tokens 0", chat(max_completion_tokens=0),
          param="max_completion_tokens"),
        J("n=2", chat(n=2), param="n"),
        J("stream 'please'", chat(stream="please"), param="stream"),
        J("five stop sequences", chat(stop=list("abcde")), param="stop"),
        J("stop as a number", chat(stop=7), param="stop"),
        J("seed as text", chat(seed="lucky"), param="seed"),
        J("user too long", chat(user="u" * 257), param="user"),
        J("stream_options as a list", chat(stream=True, stream_options=[]),
          param="stream_options"),
        Case("temperature NaN", raw(b'{"model": "bakery", "messages": [{"role": "user", '
                                    b'"content": "hi"}], "temperature": NaN}'), 422,
             "temperature"),
    ],
    "messages": [
        J("an empty messages list", chat() | {"messages": []}, param="messages"),
        J("last message empty", chat(""), param="messages"),
        J("last message whitespace", chat("  \n\t  "), param="messages"),
        J("last message null", with_messages({"role": "user", "content": None}),
          param="messages"),
        J("last message only an image", with_messages({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "http://127.0.0.1/x.png"}}]}),
          param="messages"),
        J("last message parts without text", with_messages({"role": "user", "content": [
            {"type": "text", "text": "   "}]}), param="messages"),
        J("last message from the assistant",
          with_messages(USER, {"role": "assistant", "content": "Croissants are 5.25."}),
          param="messages"),
        J("last message from the system", with_messages(USER, {"role": "system",
                                                              "content": "Be brief."}),
          param="messages"),
        J("unknown role 'wizard'", with_messages({"role": "wizard", "content": "Abracadabra"}),
          param="messages.0.role"),
        J("unknown role earlier on", with_messages({"role": "wizard", "content": "Hm"}, USER),
          param="messages.0.role"),
        J("role missing", with_messages({"content": "Hello"}), param="messages.0.role"),
        J("role as a number", with_messages({"role": 1, "content": "Hello"}),
          param="messages.0.role"),
        J("streaming, last message empty", chat("", stream=True), param="messages"),
        J("streaming, unknown role", with_messages({"role": "wizard", "content": "x"},
                                                   stream=True), param="messages.0.role"),
    ],
    "size": [
        J("a 1 MB message", chat("x" * (1 << 20)), 413),
        J("a 1 MB message, streaming", chat("croissant " * 104_858, stream=True), 413),
        J("a 1 MB message in a list of parts", with_messages({"role": "user", "content": [
            {"type": "text", "text": "y" * (1 << 20)}]}), 413),
        J("257 messages", with_messages(*[USER] * 257), param="messages"),
        Case("a 200-character thread header",
             {"json": chat(), "headers": {"X-Doppel-Thread": "t" * 200}}, 422,
             "header.x-doppel-thread"),
    ],
}


@pytest.mark.parametrize("group", list(CHAT_CASES))
def test_chat_rejects_bad_input(api: Api, group: str) -> None:
    """Every case in the group: the expected 4xx in OpenAI's shape, the field named, and not a
    row written (no turn, and no empty conversation either)."""
    before = api.counts()
    failures = []
    for case in CHAT_CASES[group]:
        r = api.client.request(case.method, "/v1/chat/completions", **case.request)
        try:
            error = assert_error(r, case.status)
            if case.param is not None:
                assert error["param"] == case.param or (error["param"] or "").startswith(
                    case.param + "."), error
                if error["code"] == "invalid_value" and error["param"] != "body":
                    assert case.param.split(".")[0] in error["message"], error  # names it
            assert api.counts() == before, "something was stored"
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)

    # the server is still fine, and a good request is stored exactly once
    r = api.client.post("/v1/chat/completions", json=chat())
    assert r.status_code == 200, r.text
    after = api.counts()
    assert after["turns"] == before["turns"] + 1


def test_chat_with_wrong_content_type_or_keyless_private_agent_stores_nothing(api: Api) -> None:
    before = api.counts()
    for request in (
        {"content": json.dumps(chat()).encode(), "headers": {"Content-Type": "text/plain"}},
        {"content": json.dumps(chat()).encode(), "headers": {}},
        {"content": json.dumps(chat()).encode(), "headers": {"Content-Type": "application/xml"}},
        {"json": chat() | {"model": "bikes"}},                     # private, no key: 401
        {"json": chat() | {"model": "no-such-agent"}},             # unknown: 404
    ):
        r = api.client.post("/v1/chat/completions", **request)
        assert_error(r, range(400, 500))
    assert api.counts() == before


def test_oversized_chunked_chat_body_is_refused_and_stores_nothing(api: Api) -> None:
    body = json.dumps(chat("x" * (1 << 20))).encode()
    before = api.counts()
    r = api.client.post("/v1/chat/completions", headers=JSON,
                        content=(body[i:i + 65536] for i in range(0, len(body), 65536)))
    assert_error(r, range(400, 500))
    assert api.counts() == before


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/api/agents/bakery/files"])
def test_oversized_chunked_body_is_413(api: Api, route: str) -> None:
    """Without a Content-Length the limit is enforced while the body streams in (this was a
    400 'There was an error parsing the body': FastAPI wrapped the middleware's exception)."""
    if route.endswith("/files"):
        boundary = "b0undary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
                f"filename=\"big.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode() \
            + b"a" * (UPLOAD_LIMIT * 2) + f"\r\n--{boundary}--\r\n".encode()
        headers = api.alice | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    else:
        body = json.dumps(chat("x" * (1 << 20))).encode()
        headers = JSON
    before = api.counts()
    r = api.client.post(route, headers=headers,
                        content=(body[i:i + 16384] for i in range(0, len(body), 16384)))
    error = assert_error(r, 413)
    assert error["code"] == "request_too_large"
    assert api.counts() == before


def test_lone_surrogates_are_a_4xx_and_store_nothing(api: Api) -> None:
    """A JSON "\\ud800" escape decodes to a str that cannot be encoded as UTF-8 (formerly a
    500 in the thread hash, in SQLite, and in the agent spec's JSON, with an empty
    conversation left behind)."""
    before = api.counts()
    spec_before = api.client.get("/api/agents/bakery", headers=api.alice).json()
    for method, path, headers, body in (
        ("POST", "/v1/chat/completions", JSON,
         b'{"model": "bakery", "messages": [{"role": "user", "content": "hi \\ud800"}]}'),
        ("POST", "/v1/chat/completions", JSON | {"X-Doppel-Thread": "t-1"},
         b'{"model": "bakery", "messages": [{"role": "user", "content": '
         b'"croissant \\udfff"}]}'),
        ("POST", "/v1/chat/completions", JSON,
         b'{"model": "bakery", "stream": true, "messages": [{"role": "user", '
         b'"content": "croissant \\ud800"}]}'),
        ("POST", "/v1/chat/completions", JSON,
         b'{"model": "bakery", "messages": [{"role": "user", "content": [{"type": "text", '
         b'"text": "croissant \\ud800"}]}]}'),
        ("POST", "/api/agents", JSON | api.alice, b'{"slug": "sur", "name": "Sur \\ud800"}'),
        ("POST", "/api/agents", JSON | api.alice,
         b'{"slug": "sur", "name": "Sur", "rules": ["\\ud800"]}'),
        ("PUT", "/api/agents/bakery", JSON | api.alice,
         b'{"slug": "bakery", "name": "Bakery \\ud800"}'),
        ("POST", "/api/agents/bakery/answers", JSON | api.alice,
         b'{"question": "Open \\ud800?", "answer": "Yes."}'),
        ("POST", "/api/keys", JSON | api.alice, b'{"scopes": ["chat"], "label": "\\ud800"}'),
    ):
        r = api.client.request(method, path, headers=headers, content=body)
        assert_error(r, range(400, 500))
        assert api.counts() == before, (method, path, body)
    assert api.client.get("/api/agents/bakery", headers=api.alice).json() == spec_before
    assert api.app.agents.find("sur") is None


# --- the owner API: bodies -----------------------------------------------------------------------

def agent(**fields: Any) -> dict[str, Any]:
    return {"slug": "fresh-agent", "name": "Fresh"} | fields


OWNER_CASES: dict[str, tuple[str, str, list[Case]]] = {
    "create agent": ("POST", "/api/agents", [
        J("invalid slug", agent(slug="Not A Slug"), param="slug"),
        J("slug with a leading dash", agent(slug="-fresh"), param="slug"),
        J("slug too long", agent(slug="a" * 65), param="slug"),
        J("slug as a number", agent(slug=7), param="slug"),
        J("slug missing", {"name": "Fresh"}, param="slug"),
        J("name missing", {"slug": "fresh-agent"}, param="name"),
        J("name blank", agent(name="   "), param="name"),
        J("unknown field", agent(colour="red"), param="colour"),
        J("unknown contact field", agent(contact={"fax": "555"}), param="contact.fax"),
        J("public 'maybe'", agent(public="maybe"), param="public"),
        J("unknown kind", agent(kind="robot"), param="kind"),
        J("goals as a string", agent(goals="be nice"), param="goals"),
        J("an existing slug", agent(slug="bakery"), 422),
        J("another owner's slug", agent(slug="bikes"), 422),
        Case("malformed JSON", raw(b'{"slug": "fresh-agent", '), 400),
        Case("a JSON list", raw(json.dumps([agent()]).encode()), 422),
        Case("an empty body", raw(b""), 422),
        Case("invalid UTF-8", raw(b'{"slug": "fresh-agent", "name": "\xff\xfe"}'), 400),
    ]),
    "update agent": ("PUT", "/api/agents/bakery", [
        J("slug changed", agent(slug="bakery-two", name="Bakery"), param="slug"),
        J("slug invalid", agent(slug="Not A Slug", name="Bakery"), param="slug"),
        J("name missing", {"slug": "bakery"}, param="name"),
        J("name blank", {"slug": "bakery", "name": ""}, param="name"),
        J("unknown field", {"slug": "bakery", "name": "Bakery", "owner": "bob"}, param="owner"),
        J("public 'maybe'", {"slug": "bakery", "name": "Bakery", "public": "maybe"},
          param="public"),
        Case("malformed JSON", raw(b'{"slug": "bakery"'), 400),
        Case("a JSON list", raw(b'[]'), 422),
    ]),
    "add answer": ("POST", "/api/agents/bakery/answers", [
        J("question empty", {"question": "", "answer": "Yes."}, param="question"),
        J("question blank", {"question": "   ", "answer": "Yes."}),
        J("question missing", {"answer": "Yes."}, param="question"),
        J("answer empty", {"question": "Open on Sunday?", "answer": ""}, param="answer"),
        J("answer blank", {"question": "Open on Sunday?", "answer": " \n "}),
        J("question as a number", {"question": 42, "answer": "Yes."}, param="question"),
        J("question too long", {"question": "q" * 2001, "answer": "Yes."}, param="question"),
        J("answer too long", {"question": "Open on Sunday?", "answer": "a" * 8001},
          param="answer"),
        Case("malformed JSON", raw(b'{"question": '), 400),
        Case("a JSON list", raw(b'["Open on Sunday?", "Yes."]'), 422),
    ]),
    "create key": ("POST", "/api/keys", [
        J("no scopes", {"scopes": []}, param="scopes"),
        J("unknown scope", {"scopes": ["root"]}),
        J("scopes as a string", {"scopes": "admin"}, param="scopes"),
        J("label too long", {"scopes": ["chat"], "label": "l" * 101}, param="label"),
        J("agents as a string", {"scopes": ["chat"], "agents": "bakery"}, param="agents"),
        J("an unknown agent", {"scopes": ["chat"], "agents": ["no-such-agent"]}, 404),
        Case("malformed JSON", raw(b'{"scopes": ["chat"'), 400),
    ]),
}


@pytest.mark.parametrize("endpoint", list(OWNER_CASES))
def test_owner_api_rejects_bad_bodies(api: Api, endpoint: str) -> None:
    method, path, cases = OWNER_CASES[endpoint]
    before = api.counts()
    spec_before = api.client.get("/api/agents/bakery", headers=api.alice).json()
    failures = []
    for case in cases:
        kwargs = dict(case.request)
        kwargs["headers"] = api.alice | kwargs.get("headers", {})
        r = api.client.request(method, path, **kwargs)
        try:
            error = assert_error(r, case.status)
            if case.param is not None:
                assert error["param"] == case.param or (error["param"] or "").startswith(
                    case.param + "."), error
                assert case.param.split(".")[0] in error["message"], error
            assert api.counts() == before, "something was stored"
            assert api.client.get("/api/agents/bakery", headers=api.alice).json() == \
                spec_before, "the agent changed"
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    assert not failures, "\n".join(failures)
    assert api.app.agents.find("fresh-agent") is None
    assert api.app.agents.find("bakery-two") is None
    assert api.app.agents.get("bikes").spec.name == "Bikes"


def test_owner_api_rejects_bad_path_and_query_values(api: Api) -> None:
    before = api.counts()
    for method, path, status in (
        ("GET", "/api/agents/bakery/conversations/abc", 422),
        ("GET", "/api/agents/bakery/conversations/1.5", 422),
        ("GET", "/api/agents/bakery/conversations/-1", 404),
        ("GET", "/api/agents/bakery/conversations?limit=abc", 422),
        ("GET", "/api/agents/bakery/conversations?offset=-5", 200),
        ("DELETE", "/api/agents/bakery/answers/abc", 422),
        ("DELETE", "/api/agents/bakery/answers/0", 404),
        ("DELETE", "/api/keys/abc", 422),
        ("DELETE", "/api/keys/0", 404),
        ("DELETE", "/api/agents/bakery/documents/no-such-file.md", 404),
        ("DELETE", "/api/agents/bakery/documents/../../etc/passwd", range(400, 500)),
        ("GET", "/api/agents/Not%20A%20Slug", 404),
        ("GET", "/a/bakery/passages/abc", 422),
        ("POST", "/api/agents/bakery", 405),
        ("PATCH", "/api/agents/bakery", 405),
        ("GET", "/api/agents/bakery/files", 405),
    ):
        r = api.client.request(method, path, headers=api.alice)
        if status == 200:
            assert r.status_code == 200, (path, r.text)
        elif path.startswith("/a/") and r.status_code == 422:
            assert "Traceback" not in r.text
        else:
            assert_error(r, status)
    assert api.counts() == before


def test_huge_integers_in_paths_are_a_4xx(api: Api) -> None:
    """Ids past SQLite's 64-bit integers (formerly an OverflowError: a 500)."""
    before = api.counts()
    big = "99999999999999999999"
    for query in (f"offset={big}", f"limit={big}", f"offset=-{big}"):  # paging: [] is fine too
        r = api.client.get(f"/api/agents/bakery/conversations?{query}", headers=api.alice)
        if r.status_code != 200:
            assert_error(r, range(400, 500))
    for method, path in (
        ("GET", f"/api/agents/bakery/conversations/{big}"),
        ("GET", f"/api/agents/bakery/conversations/-{big}"),
        ("DELETE", f"/api/agents/bakery/answers/{big}"),
        ("DELETE", f"/api/keys/{big}"),
    ):
        assert_error(api.client.request(method, path, headers=api.alice), range(400, 500))
    r = api.client.get(f"/a/bakery/passages/{big}")
    assert 400 <= r.status_code < 500 and "Traceback" not in r.text, r.text[:200]
    assert api.counts() == before


# --- the owner API: uploads ----------------------------------------------------------------------

GOOD = ("hours.md", b"# Opening hours\n\nWe open at 7 am every day except Monday.\n")


def upload(api: Api, files: list[tuple[str, bytes]], slug: str = "bakery") -> httpx.Response:
    return api.client.post(f"/api/agents/{slug}/files", headers=api.alice,
                           files=[("files", (name, data)) for name, data in files])


def test_upload_reports_each_bad_file_and_keeps_the_good_one(api: Api) -> None:
    before_docs = api.documents()
    bad_files = {
        "big.txt": b"word " * (FILE_LIMIT // 5 + 10),                    # over max_file_bytes
        "archive.zip": b"PK\x03\x04\x14\x00\x00\x00 this is not really a zip",
        "menu.docx": b"PK\x03\x04 a broken office file",
        "broken.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage",
        "fake.pdf": b"this is plain text pretending to be a PDF",
        "empty.txt": b"",
        "blank.md": b"   \n\n\t  \n",
        "binary.txt": bytes(range(256)) * 4,
        "not-utf8.txt": b"\x81\x8d\x8f\x90\x9d" * 20,
        "tool.exe": b"MZ\x90\x00\x03\x00\x00\x00",
        "noextension": b"just some text",
        "faq.json": b'{"faq": [{"question": "Open?", ',
        "faq.yaml": b"faq: [unclosed\n  - question: x",
        "header-only.csv": b"item,price\n",
    }
    files = list(bad_files.items())
    files.insert(len(files) // 2, GOOD)
    r = upload(api, files)
    assert r.status_code == 200, r.text
    report = {f["source"]: f for f in r.json()["files"]}
    assert set(report) == set(bad_files) | {GOOD[0]}
    for name in bad_files:
        assert report[name]["status"] == "skipped", report[name]
        assert report[name]["reason"].strip(), report[name]
        assert report[name]["chunks"] == 0
    assert "too large" in report["big.txt"]["reason"]
    assert str(FILE_LIMIT) in report["big.txt"]["reason"]
    assert report[GOOD[0]]["status"] == "added" and report[GOOD[0]]["chunks"] > 0
    assert r.json()["summary"] == {"added": 1, "updated": 0, "unchanged": 0,
                                   "skipped": len(bad_files)}
    assert api.documents() == sorted(before_docs + [GOOD[0]])


def test_upload_over_the_total_limit_is_413_and_stores_nothing(api: Api) -> None:
    before, docs = api.counts(), api.documents()
    # each file is under max_file_bytes, but together they pass max_upload_bytes
    files = [GOOD] + [(f"part-{i}.txt", (f"Part {i}. " * FILE_LIMIT).encode()[:FILE_LIMIT - 96])
                      for i in range(UPLOAD_LIMIT // (FILE_LIMIT - 96) + 2)]
    assert all(len(d) <= FILE_LIMIT for _, d in files)
    assert sum(len(d) for _, d in files) > UPLOAD_LIMIT
    error = assert_error(upload(api, files), 413)
    assert str(UPLOAD_LIMIT) in error["message"]
    # one huge file
    assert_error(upload(api, [GOOD, ("huge.txt", b"h" * (UPLOAD_LIMIT * 4))]), 413)
    # ... and the same without a Content-Length: refused while streaming (a 4xx at least)
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"huge.txt\"\r\n\r\n").encode() + b"h" * (UPLOAD_LIMIT * 2) \
        + f"\r\n--{boundary}--\r\n".encode()
    r = api.client.post("/api/agents/bakery/files",
                        headers=api.alice | {"Content-Type":
                                             f"multipart/form-data; boundary={boundary}"},
                        content=(body[i:i + 16384] for i in range(0, len(body), 16384)))
    assert_error(r, range(400, 500))
    assert api.counts() == before and api.documents() == docs


def test_malformed_uploads_are_4xx_and_store_nothing(api: Api) -> None:
    before, docs = api.counts(), api.documents()
    path = "/api/agents/bakery/files"
    c, alice = api.client, api.alice
    for r, status in (
        (c.post(path, headers=alice), 422),                                     # no body
        (c.post(path, headers=alice, json={"files": ["hours.md"]}), 422),       # JSON
        (c.post(path, headers=alice | {"Content-Type": "text/plain"},
                content=GOOD[1]), 422),                                         # not multipart
        (c.post(path, headers=alice, files=[("file", GOOD)]), 422),             # wrong field
        (c.post(path, headers=alice, data={"files": "hours.md"}), 422),         # a text field
        (c.post(path, headers=alice | {"Content-Type": "multipart/form-data; boundary=zz"},
                content=b"--zz\r\nnot a part at all"), range(400, 500)),        # broken
        (c.post(path, headers=alice | {"Content-Type": "multipart/form-data"},
                content=b"--zz\r\n\r\n--zz--\r\n"), range(400, 500)),          # no boundary
        (upload(api, [(f"f{i}.txt", b"tiny") for i in range(101)]), 413),      # > 100 files
    ):
        assert_error(r, status)
    assert api.counts() == before and api.documents() == docs


@pytest.mark.parametrize("name,data", [
    ("huge-field.csv", b"item,notes\nCroissant," + b"y" * 200_000 + b"\n"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000),
    ("deep.yaml", b"faq: " + b"[" * 5_000 + b"]" * 5_000),
], ids=["csv-field-limit", "deep-json", "deep-yaml"])
def test_a_pathological_file_is_skipped_not_a_500(roomy_api: Api, name: str,
                                                   data: bytes) -> None:
    """Formerly a 500 for the whole upload (the loader's _csv.Error or RecursionError escaped
    Ingestor.ingest_bytes), with the files before it in the upload stored all the same."""
    api = roomy_api
    docs = api.documents()
    r = upload(api, [GOOD, (name, data)])
    assert r.status_code == 200, (r.status_code, r.text[:100], api.documents())
    report = {f["source"]: f for f in r.json()["files"]}
    assert report[name]["status"] == "skipped" and report[name]["reason"]
    assert report[GOOD[0]]["status"] == "added"
    assert api.documents() == sorted(docs + [GOOD[0]])
