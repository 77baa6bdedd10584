"""The owner JSON API under /api: agents, knowledge files, conversations, approved answers, keys.

Every route needs a key with the `admin` scope and acts on the key owner's own agents only: an
agent of another owner is a 403, an unknown one a 404.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from doppel.agents.insights import GROUP_THRESHOLD, Insights
from doppel.agents.repo import Agent
from doppel.agents.spec import AgentSpec
from doppel.serve.auth import Principal, owned_agent, principal, require_admin
from doppel.serve.errors import APIError
from doppel.service import Doppel

router = APIRouter(prefix="/api")

MAX_FILES_PER_UPLOAD = 100


def _app(request: Request) -> Doppel:
    return request.app.state.doppel  # type: ignore[no-any-return]


def _agent_json(app: Doppel, agent: Agent) -> dict[str, Any]:
    return {"slug": agent.slug, "spec": agent.spec.model_dump(), "created_at": agent.created_at,
            "updated_at": agent.updated_at, "stats": app.agents.stats(agent)}


@router.get("/me")
def me(request: Request, who: Principal = Depends(principal)) -> dict[str, Any]:
    owner = require_admin(who)
    return {"id": owner.id, "name": owner.name, "key": who.key.public() if who.key else None}


# --- agents -------------------------------------------------------------------------------------

@router.get("/agents")
def list_agents(request: Request, who: Principal = Depends(principal)) -> dict[str, Any]:
    app, owner = _app(request), require_admin(who)
    return {"data": [_agent_json(app, a) for a in app.agents.list(owner.id)]}


@router.post("/agents", status_code=201)
def create_agent(spec: AgentSpec, request: Request,
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    app, owner = _app(request), require_admin(who)
    return _agent_json(app, app.agents.create(spec.model_copy(update={"sources": []}), owner.id))


@router.get("/agents/{slug}")
def get_agent(slug: str, request: Request, who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    return _agent_json(app, owned_agent(app, who, slug))


@router.put("/agents/{slug}")
def update_agent(slug: str, spec: AgentSpec, request: Request,
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    current = owned_agent(app, who, slug)
    if spec.slug != slug:
        raise APIError(422, "the slug cannot change (create a new agent instead)", param="slug")
    spec = spec.model_copy(update={"sources": current.spec.sources})
    return _agent_json(app, app.update_spec(current, spec))


@router.delete("/agents/{slug}", status_code=204)
def delete_agent(slug: str, request: Request, who: Principal = Depends(principal)) -> Response:
    app = _app(request)
    owned_agent(app, who, slug)
    app.agents.delete(slug)
    return Response(status_code=204)


# --- knowledge ----------------------------------------------------------------------------------

@router.post("/agents/{slug}/files")
async def upload_files(slug: str, request: Request, files: list[UploadFile],
                       who: Principal = Depends(principal)) -> dict[str, Any]:
    """Ingest uploaded files; a per-file report, bad files skipped with their reason.

    The upload is recorded as an import job (`job`; GET /imports/{id}): should the client go
    away or the server stop half-way, the job says which files were imported and which not.
    A .zip (a social-media export, a saved site) gives one report per entry."""
    app = _app(request)
    agent = owned_agent(app, who, slug)
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise APIError(413, f"at most {MAX_FILES_PER_UPLOAD} files per upload")
    # The files stay in their spool files until the worker thread reads each in turn.
    named = [(_file_name(u), u.file) for u in files]
    stop = threading.Event()
    work = asyncio.ensure_future(asyncio.to_thread(app.imports.run_upload, agent, named, stop))
    try:
        while not work.done():
            await asyncio.wait({work}, timeout=0.2)
            if not work.done() and await request.is_disconnected():
                # Nobody reads the answer: stop after the file in progress (it is written
                # whole or not at all); the job records what was and was not imported.
                stop.set()
        job = work.result()
    except asyncio.CancelledError:
        stop.set()  # the server is stopping: the worker thread still writes the record
        raise
    reports = [{k: v for k, v in item.items() if k != "line"} for item in job.items]
    return {"files": reports,
            "summary": {s: sum(r["status"] == s for r in reports)
                        for s in ("added", "updated", "unchanged", "skipped")},
            "job": {"id": job.id, "state": job.state, "error": job.error}}


def _file_name(upload: UploadFile) -> str:
    return (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1] or "upload"


@router.get("/agents/{slug}/documents")
def list_documents(slug: str, request: Request,
                   who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    return {"data": app.documents(agent)}


@router.delete("/agents/{slug}/documents/{source:path}", status_code=204)
def delete_document(slug: str, source: str, request: Request,
                    who: Principal = Depends(principal)) -> Response:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    if not app.ingestor.remove(agent, source):
        raise APIError(404, f"no document {source!r}")
    return Response(status_code=204)


class ImportIn(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="A website or a sitemap.xml.")


@router.post("/agents/{slug}/imports", status_code=202)
def start_import(slug: str, body: ImportIn, request: Request,
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    """Import a website in the background (polite, SSRF-safe crawl); poll the job."""
    app = _app(request)
    agent = owned_agent(app, who, slug)
    if not re.match(r"^(https?://)?[^\s/]+\.[^\s/]+", body.url.strip()):
        raise APIError(422, "give a web address such as https://bakery.example", param="url")
    return app.imports.start_url(agent, body.url.strip()).public()


@router.get("/agents/{slug}/imports")
def list_imports(slug: str, request: Request,
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    return {"data": [job.public() for job in app.imports.list(agent.id)]}


@router.get("/agents/{slug}/imports/{job_id}")
def get_import(slug: str, job_id: int, request: Request,
               who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    return app.imports.get(job_id, agent.id).public()


@router.get("/agents/{slug}/facts")
def get_facts(slug: str, request: Request, who: Principal = Depends(principal)) -> dict[str, Any]:
    """Prices, opening hours and contacts found in the agent's content, for review, and the
    lines the agent keeps private (masked)."""
    from doppel.knowledge.facts import facts_found

    app = _app(request)
    agent = owned_agent(app, who, slug)
    return asdict(facts_found(app.db, agent.id, rules=agent.spec.rules))


@router.post("/agents/{slug}/voice")
async def derive_voice(slug: str, request: Request,
                       who: Principal = Depends(principal)) -> dict[str, Any]:
    """Measure the agent's voice from its content and save it into the spec (edit it with
    PUT /api/agents/{slug})."""
    app = _app(request)
    agent = owned_agent(app, who, slug)
    try:
        voice = await app.derive_voice(agent)
    except ValueError as exc:
        raise APIError(422, str(exc)) from None
    return voice.model_dump()


# --- conversations ------------------------------------------------------------------------------

@router.get("/agents/{slug}/conversations")
def list_conversations(slug: str, request: Request, limit: int = 50, offset: int = 0,
                       q: str | None = Query(None, max_length=200,
                                             description="Words every listed conversation "
                                             "has in one turn (question or answer)."),
                       who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    limit, offset = min(max(limit, 1), 500), max(offset, 0)
    if q is not None and q.strip():
        hits = Insights.of(app).search_conversations(agent.id, q, limit, offset)
        return {"data": [h.to_dict() for h in hits], "q": q.strip()}
    return {"data": app.conversations.list(agent.id, limit, offset)}


@router.get("/agents/{slug}/conversations/{conversation_id}")
def read_conversation(slug: str, conversation_id: int, request: Request,
                      who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    turns = app.conversations.turns(agent.id, conversation_id=conversation_id, limit=1000)
    if not turns:
        raise APIError(404, f"no conversation #{conversation_id}")
    return {"id": conversation_id, "thread": turns[0].thread,
            "turns": [t.__dict__ for t in turns]}


# --- approved answers ---------------------------------------------------------------------------

class AnswerIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(min_length=1, max_length=8000)


@router.get("/agents/{slug}/answers")
def list_answers(slug: str, request: Request,
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    return {"data": app.answers.list(owned_agent(app, who, slug).id)}


@router.post("/agents/{slug}/answers", status_code=201)
def add_answer(slug: str, body: AnswerIn, request: Request,
               who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    answer_id = app.answers.add(agent.id, body.question, body.answer)
    return {"id": answer_id, "question": body.question.strip(), "answer": body.answer.strip()}


@router.delete("/agents/{slug}/answers/{answer_id}", status_code=204)
def delete_answer(slug: str, answer_id: int, request: Request,
                  who: Principal = Depends(principal)) -> Response:
    app = _app(request)
    if not app.answers.delete(owned_agent(app, who, slug).id, answer_id):
        raise APIError(404, f"no owner-approved answer #{answer_id}")
    return Response(status_code=204)


# --- keys ---------------------------------------------------------------------------------------

class KeyIn(BaseModel):
    scopes: list[str] = Field(min_length=1)
    agents: list[str] | None = None
    label: str = Field("", max_length=100)


@router.get("/keys")
def list_keys(request: Request, who: Principal = Depends(principal)) -> dict[str, Any]:
    owner = require_admin(who)
    return {"data": [k.public() for k in _app(request).owners.list_keys(owner.id)]}


@router.post("/keys", status_code=201)
def create_key(body: KeyIn, request: Request, who: Principal = Depends(principal)
               ) -> dict[str, Any]:
    app, owner = _app(request), require_admin(who)
    for slug in body.agents or []:
        owned_agent(app, who, slug)
    key, secret = app.owners.create_key(owner.id, body.scopes, agents=body.agents,
                                        label=body.label)
    return key.public() | {"key": secret}


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: int, request: Request, who: Principal = Depends(principal)) -> Response:
    owner = require_admin(who)
    _app(request).owners.revoke_key(owner.id, key_id)
    return Response(status_code=204)


# --- insights: the unanswered inbox, analytics, safety events -----------------------------------
# The logic lives in doppel.agents.insights, shared with the owner console.

Days = Annotated[int, Query(ge=1, le=365, description="How many days back, today included.")]
Paraphrases = Annotated[list[Annotated[str, Field(min_length=1, max_length=2000)]], Field(
    max_length=50, description="Paraphrases to treat the same way; omitted or null: the other "
    "questions of the question's inbox group, [] for none.")]


class InboxAnswerIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(min_length=1, max_length=8000)
    also: Paraphrases | None = None


class InboxDismissIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    also: Paraphrases | None = None


@router.get("/agents/{slug}/inbox")
def read_inbox(slug: str, request: Request, days: int = Query(90, ge=1, le=365),
               threshold: float = Query(GROUP_THRESHOLD, ge=0.5, le=1.0),
               limit: int = Query(50, ge=1, le=500),
               who: Principal = Depends(principal)) -> dict[str, Any]:
    """Unanswered question groups (dont_know and extractive turns), most asked first."""
    app = _app(request)
    agent = owned_agent(app, who, slug)
    groups = Insights.of(app).inbox(agent.id, days=days, threshold=threshold)
    return {"data": [g.to_dict() for g in groups[:limit]], "total": len(groups),
            "days": days, "threshold": threshold}


@router.post("/agents/{slug}/inbox/answer", status_code=201)
def answer_inbox(slug: str, body: InboxAnswerIn, request: Request,
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    """Approve an answer for a question group; the agent uses it from the next turn on."""
    app = _app(request)
    agent = owned_agent(app, who, slug)
    added = Insights.of(app).answer_group(agent.id, body.question, body.answer, body.also)
    return {"answer": body.answer.strip(),
            "approved": [{"id": i, "question": q} for i, q in added]}


@router.post("/agents/{slug}/inbox/dismiss")
def dismiss_inbox(slug: str, body: InboxDismissIn, request: Request,
                  who: Principal = Depends(principal)) -> dict[str, Any]:
    """Keep a question group out of the inbox (stored; survives restarts)."""
    app = _app(request)
    agent = owned_agent(app, who, slug)
    if not body.question.strip():
        raise APIError(422, "the question is empty", param="question")
    return {"dismissed": Insights.of(app).dismiss(agent.id, body.question, body.also)}


@router.get("/agents/{slug}/analytics")
def read_analytics(slug: str, request: Request, days: Days = 30,
                   tz_offset: int = Query(0, ge=-720, le=840, description="Minutes east of "
                                          "UTC for day boundaries (e.g. 60 for CET)."),
                   top: int = Query(10, ge=0, le=50),
                   who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    return Insights.of(app).analytics(agent.id, days, top=top,
                                      utc_offset_minutes=tz_offset).to_dict()


@router.get("/agents/{slug}/safety")
def read_safety(slug: str, request: Request, days: Days = 30,
                category: str | None = Query(None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                                             description="e.g. S1, injection, privacy"),
                limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                who: Principal = Depends(principal)) -> dict[str, Any]:
    """Turns where a shield blocked or rewrote something, newest first."""
    app = _app(request)
    agent = owned_agent(app, who, slug)
    page = Insights.of(app).safety_events(agent.id, category=category, days=days,
                                          limit=limit, offset=offset)
    return {"data": [asdict(e) for e in page.events], "total": page.total,
            "counts": page.counts}
