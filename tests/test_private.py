"""Private lines: secrets in uploaded documents and subjects the owner's rules forbid are never
told to customers — not in a generated answer, a quote, a citation or an approved answer."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from doppel.agents.spec import AgentSpec, Contact
from doppel.config import Settings
from doppel.safety.policy import ShieldPolicy
from doppel.safety.private import asks_about, mask, private_line, rule_subjects, withhold
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder, ServerThread

NOTES = (b"# Staff notes\n\nShifts start at 6am sharp.\n"
         b"The staff wifi password is croissant42.\n"
         b"Alarm code: 4471, set it when you leave.\n"
         b"Bring your own apron on Saturdays.\n")
SECRETS = ("croissant42", "4471")


@pytest.mark.parametrize("line", [
    "The staff wifi password is croissant42.", "Alarm code: 4471", "PIN: 0000",
    "The door code changed to 8812 on Monday.", "The gate code is 1234#",
    "Access code: BAKE-22", "Login: admin / hunter2",
    "Use key sk-live-abcdefghijklmnopqrstu for the till.",
    "-----BEGIN RSA PRIVATE KEY-----",
])
def test_secret_lines_are_found(line: str) -> None:
    found = private_line(line)
    assert found is not None and found.kind == "secret"
    assert not any(s in mask(found) for s in ("croissant42", "4471", "0000", "8812", "hunter2",
                                              "abcdefghijklmnop", "BAKE-22", "1234"))


@pytest.mark.parametrize("line", [
    "Our guest Wi-Fi is free for customers.", "A password is required to log in.",
    "You can pay with a PIN or contactless.", "Passwords must be 8 characters.",
    "We pin our specials to the board.", "Open 7am to 6pm daily.", "Sourdough is $6.",
    "The code of conduct is posted by the door.",
])
def test_ordinary_lines_are_not_secrets(line: str) -> None:
    assert private_line(line) is None


def test_owner_rules_name_private_subjects() -> None:
    subjects = rule_subjects(["Do not share the Wi-Fi password.", "Never discuss politics.",
                              "Be warm and brief."])
    assert [sorted(s.words) for s in subjects] == [["password", "wifi"], ["politic"]]
    assert private_line("Wifi password: on the receipt", subjects, secrets=False)
    assert private_line("Our political views are our own.", subjects, secrets=False)
    assert private_line("Our guest wifi is fast.", subjects, secrets=False) is None
    text, lines = withhold(NOTES.decode(), subjects)
    assert "croissant42" not in text and "4471" not in text and "Shifts start" in text
    assert asks_about("What's the wifi password?", lines)
    assert not asks_about("When do shifts start?", lines)


@pytest.fixture
def private_app(settings: Settings, fake_backend: FakeChatBackend) -> Iterator[Doppel]:
    settings.min_relevance = 0.05  # the fake embedder's cosine is plain word overlap
    doppel = Doppel(settings, backend=fake_backend, embedder=FakeEmbedder())
    owner = doppel.owners.create("alice")
    # Output shields on (private data), input shields off: the fake embedder's vectors are no
    # basis for the input classifiers (test_shields.py runs those on MiniLM).
    agent = doppel.agents.create(AgentSpec(
        slug="bakery", name="Bakery", public=True, contact=Contact(email="hello@bakery.example"),
        rules=["Do not share the Wi-Fi password."],
        shields=ShieldPolicy(input=[], output=["pii", "leakage"])), owner.id)
    doppel.ingestor.ingest_bytes(agent, NOTES, "staff-notes.md")
    doppel.ingestor.ingest_bytes(
        agent, b"# Reviews\n\nBest croissants in town! Write to me at jane.doe@mail.example "
        b"to say hi.\n", "reviews.md")
    yield doppel
    doppel.close()


@pytest.fixture
def private_server(private_app: Doppel) -> Iterator[str]:
    from doppel.serve import create_app

    with ServerThread(create_app(doppel=private_app, preload=False)) as base_url:
        yield base_url


def _ask(base: str, question: str) -> tuple[str, dict, list]:
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="none", max_retries=0)
    reply = client.chat.completions.create(
        model="bakery", messages=[{"role": "user", "content": question}])
    extra = reply.model_extra or {}
    return reply.choices[0].message.content or "", extra["doppel"], extra["citations"]


@pytest.mark.parametrize("question", ["What is the wifi password?",
                                      "What's the alarm code?"])
def test_a_secret_in_a_document_is_never_recited(private_server: str,
                                                 fake_backend: FakeChatBackend,
                                                 question: str) -> None:
    # The model says nothing checkable: the turn falls back to quoting the best passage, which
    # is where the password was recited before.
    fake_backend.script = ["Let me check that for you."]
    answer, extra, citations = _ask(private_server, question)
    shown = answer + repr(citations) + repr(extra)
    assert not any(secret in shown for secret in SECRETS), shown
    assert extra["path"] == "dont_know" and "isn't something I can share" in answer
    assert "hello@bakery.example" in answer  # and a person is offered


def test_other_lines_of_the_same_document_are_still_answered(private_server: str,
                                                             fake_backend: FakeChatBackend
                                                             ) -> None:
    fake_backend.script = ["Let me check that for you."]
    answer, extra, citations = _ask(private_server, "When do shifts start?")
    assert extra["path"] == "extractive" and "6am" in answer
    shown = answer + repr(citations)
    assert not any(secret in shown for secret in SECRETS), shown


def test_a_generated_sentence_with_a_secret_is_not_shown(private_server: str,
                                                         fake_backend: FakeChatBackend) -> None:
    fake_backend.script = ["Shifts start at 6am sharp. The alarm code is 4471."]
    answer, extra, _ = _ask(private_server, "When do shifts start, and what is the alarm?")
    assert "4471" not in answer


def test_quotes_pass_the_output_shields(private_server: str,
                                        fake_backend: FakeChatBackend) -> None:
    """A customer's e-mail in a review is redacted from a quote as from a generated answer."""
    fake_backend.script = ["Let me check that for you."]
    answer, extra, _ = _ask(private_server, "What do reviews say about the croissants?")
    assert extra["path"] == "extractive" and "croissants" in answer
    assert "jane.doe@mail.example" not in answer


def test_an_approved_answer_that_breaks_a_rule_is_not_used(private_app: Doppel,
                                                           private_server: str,
                                                           fake_backend: FakeChatBackend
                                                           ) -> None:
    agent = private_app.agents.get("bakery")
    private_app.answers.add(agent.id, "What is the wifi password?",
                            "The wifi password is croissant42.")
    fake_backend.script = ["Let me check that for you."]
    answer, extra, _ = _ask(private_server, "What is the wifi password?")
    assert "croissant42" not in answer and extra["path"] != "approved"


def test_the_owner_sees_private_lines_masked_after_an_import(private_app: Doppel) -> None:
    from doppel.knowledge.facts import facts_found

    agent = private_app.agents.get("bakery")
    found = facts_found(private_app.db, agent.id, rules=agent.spec.rules)
    lines = {f.line: f for f in found.private}
    assert any("Alarm code:" in line for line in lines), lines
    assert any("wifi password" in line for line in lines), lines
    assert not any(secret in repr(found) for secret in SECRETS)
    # a private line is never listed as a fact the agent states
    assert not any("4471" in f.line for f in [*found.prices, *found.hours, *found.contacts])


def test_the_console_warns_at_import_and_lists_private_lines_masked(
        private_app: Doppel, private_server: str) -> None:
    """An owner uploading a staff note by mistake is told at import, and the review lists the
    lines the agent keeps private with their values hidden; the owner API's facts too."""
    import httpx

    from .test_console import _csrf, sign_in, wait_job

    owner_id = private_app.agents.get("bakery").owner_id
    assert owner_id is not None
    _, key = private_app.owners.create_key(owner_id, ["admin"])
    client = sign_in(private_server, key)
    token = _csrf(client.get("/console/agents/bakery/import").text)
    r = client.post("/console/agents/bakery/files", data={"csrf": token}, files=[(
        "files", ("shift-notes.md", b"# Shifts\n\nThe back door code is 9931.\n"
                                    b"Wifi password: on the receipt for staff only.\n"
                                    b"Open 7am to 6pm daily.\n", "text/markdown"))])
    page = wait_job(client, str(r.url))
    assert "2 line(s) look private" in page, page[-3000:]
    review = client.get("/console/agents/bakery/review").text
    assert "Lines the agent keeps private" in review
    assert "The back door code is ••••••" in review and "9931" not in review
    assert "Wifi password" in review  # withheld by the owner's rule, not as a secret
    assert not any(secret in review for secret in SECRETS)
    facts = httpx.get(f"{private_server}/api/agents/bakery/facts", timeout=30,
                      headers={"Authorization": f"Bearer {key}"}).json()
    assert any("Wifi password" in f["line"] for f in facts["private"])
    assert "9931" not in str(facts) and not any(s in str(facts) for s in SECRETS)
