"""The owner sees and fixes what the agent says: facts bound to their subject (never from a
review), a line changed or removed in the console and used by the agent at once, answers
marked wrong, approved answers listed, edited and deleted, all through the real server."""

from __future__ import annotations

import asyncio
import re

import httpx

from doppel.knowledge.facts import FactOverrides, facts_found
from doppel.service import Doppel
from tests.test_console import _csrf, sign_in

RENTALS = b"""<html><head><title>Rentals</title></head><body><main><h1>Rentals</h1>
<table><tr><th>Bike</th><th>Half day</th><th>Full day</th></tr>
<tr><td>City bike</td><td>$18</td><td>$28</td></tr>
<tr><td>E-bike</td><td>$35</td><td>$55</td></tr></table></main></body></html>"""
HOURS = b"# Opening hours\n\n- Monday: Closed\n- Saturday: 8am - 5pm\n"
REVIEWS = b"# Reviews\n\n\"Loved it! Call me about the group ride: (207) 555-0199\" - Dana\n"
SERVICES = b"Service,Duration (min),price_usd\nBasic tune-up,45,65.00\nFull service,120,140.00\n"


def shop(app: Doppel) -> None:
    agent = app.agents.get("bakery")  # alice's agent on the test server
    for name, data in (("rentals.html", RENTALS), ("hours.md", HOURS),
                       ("reviews.md", REVIEWS), ("services.csv", SERVICES)):
        app.ingestor.ingest_bytes(agent, data, name)


def test_facts_are_bound_to_their_subject_and_never_from_reviews(server_app: Doppel) -> None:
    shop(server_app)
    agent = server_app.agents.get("bakery")
    found = facts_found(server_app.db, agent.id)
    prices = {(f.subject, f.value) for f in found.prices}
    assert ("E-bike · Full day", "$55") in prices and ("City bike · Half day", "$18") in prices
    assert ("Full service · price_usd", "140.00 (price_usd)") in prices  # a price column
    hours = {(f.subject, f.value) for f in found.hours}
    assert ("Saturday", "8am - 5pm") in hours and ("Monday", "Closed") in hours
    assert not any("0199" in f.value for f in found.contacts)  # a customer's own number


def test_the_owner_changes_and_removes_a_line_and_the_agent_follows(server: str,
                                                                   server_app: Doppel) -> None:
    shop(server_app)
    server_app.settings.compose_answers = True
    agent = server_app.agents.get("bakery")

    def ask(q: str) -> str:
        return asyncio.run(server_app.runtime.turn(agent, q, f"t{q}")).answer

    assert "$55" in ask("How much is a full day on the e-bike?")
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    page = client.get("/console/agents/bakery/review")
    assert "E-bike · Full day" in page.text
    line = "Bike: E-bike; Half day: $35; Full day: $55"
    r = client.post("/console/agents/bakery/facts", data={
        "csrf": _csrf(page.text), "line": line, "action": "change",
        "replacement": "Bike: E-bike; Half day: $35; Full day: $60"})
    assert r.status_code == 200 and "your version from now on" in r.text
    assert "your version" in r.text
    answer = ask("How much is a full day on the e-bike ?")
    assert "$60" in answer and "$55" not in answer
    # the gate reads the owner's version too: the old price is no longer the e-bike's
    assert FactOverrides(server_app.db).list(agent.id) == [
        (line, "Bike: E-bike; Half day: $35; Full day: $60")]
    # undo, then remove
    r = client.post("/console/agents/bakery/facts", data={
        "csrf": _csrf(r.text), "line": line, "action": "undo"})
    assert "$55" in ask("How much is a full day on the e-bike  ?")
    r = client.post("/console/agents/bakery/facts", data={
        "csrf": _csrf(r.text), "line": line, "action": "remove"})
    assert "Removed" in r.text
    assert "$55" not in ask("How much is a full day on the e-bike   ?")
    # bad input: a message on the form, nothing changed
    r = client.post("/console/agents/bakery/facts", data={
        "csrf": _csrf(r.text), "line": line, "action": "change", "replacement": ""})
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert len(FactOverrides(server_app.db).list(agent.id)) == 1
    client.close()


def test_marking_an_answer_wrong_and_keeping_the_correction(server: str,
                                                            server_app: Doppel) -> None:
    shop(server_app)
    server_app.settings.compose_answers = True
    r = httpx.post(f"{server}/v1/chat/completions", trust_env=False, timeout=30, json={
        "model": "bakery", "messages": [{"role": "user", "content": "Are you open on Monday?"}]})
    assert r.status_code == 200
    client = sign_in(server, server_app.keys["alice"])  # type: ignore[attr-defined]
    conversation = server_app.db.connect().execute(
        "SELECT MAX(conversation_id), MAX(id) FROM turns").fetchone()
    page = client.get(f"/console/agents/bakery/conversations/{conversation[0]}")
    assert "Was this answer right?" in page.text and "From your facts" in page.text
    r = client.post(f"/console/agents/bakery/turns/{conversation[1]}/mark", data={
        "csrf": _csrf(page.text), "mark": "wrong",
        "back": f"/console/agents/bakery/conversations/{conversation[0]}"})
    assert "Marked wrong" in r.text and "You marked this wrong" in r.text
    inbox = client.get("/console/agents/bakery/inbox")
    assert "Are you open on Monday?" in inbox.text
    r = client.post("/console/agents/bakery/inbox/answer", data={
        "csrf": _csrf(inbox.text), "question": "Are you open on Monday?",
        "answer": "Mondays we are closed, but the workshop takes drop-offs."})
    answers = client.get("/console/agents/bakery/answers")
    assert "Mondays we are closed, but the workshop takes drop-offs." in answers.text
    answer_id = re.search(r'id="a(\d+)"', answers.text).group(1)  # type: ignore[union-attr]
    r = client.post(f"/console/agents/bakery/answers/{answer_id}", data={
        "csrf": _csrf(answers.text), "question": "Are you open on Monday?",
        "answer": "Closed on Mondays."})
    assert "Saved." in r.text and "Closed on Mondays." in r.text
    r = client.post(f"/console/agents/bakery/answers/{answer_id}/delete",
                    data={"csrf": _csrf(r.text)})
    assert "Deleted." in r.text and "Closed on Mondays." not in r.text
    client.close()
