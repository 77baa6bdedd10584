"""The Approved answers tab: the owner's own answers (from the inbox, a wrong answer's
correction, or typed here) and the FAQ entries of their files, which the agent gives word for
word when a question means the same. Owner answers can be added, edited and deleted; FAQ
entries change with their file."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from doppel.agents.repo import Agent
from doppel.errors import ValidationError
from doppel.serve.console.deps import (
    ConsoleError,
    OwnedAgent,
    Posted,
    SignedIn,
    redirect,
    render,
    service,
)
from doppel.serve.console.forms import field, message, typed
from doppel.serve.sessions import Session

__all__ = ["answers_page", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/agents/{slug}/answers", response_class=HTMLResponse)
async def answers_page(request: Request, agent: OwnedAgent, session: SignedIn,
                       done: str = "") -> Response:
    return await _page(request, session, agent, done=done)


async def _page(request: Request, session: Session, agent: Agent, *, done: str = "",
                error: str = "", values: dict[str, str] | None = None,
                editing: int = 0) -> Response:
    rows = await asyncio.to_thread(service(request).answers.list, agent.id)
    own = [r for r in rows if r["source"] == "owner"]
    faq = [r for r in rows if r["source"] != "owner"]
    notice = {"added": "Added: the agent gives this answer from now on.",
              "saved": "Saved.", "deleted": "Deleted."}.get(done, "")
    return render(request, "answers.html", 422 if error else 200, session=session, agent=agent,
                  tab="answers", own=own, faq=faq, notice=notice, error=error,
                  typed=values or {}, editing=editing)


def _fields(form: object) -> tuple[str, str]:
    question = field(form, "question", "Question", 2000, required=True)  # type: ignore[arg-type]
    answer = field(form, "answer", "Answer", 8000, required=True)  # type: ignore[arg-type]
    return question, answer


@router.post("/agents/{slug}/answers")
async def add_answer(request: Request, form: Posted, agent: OwnedAgent,
                     session: SignedIn) -> Response:
    try:
        question, answer = _fields(form)
        await asyncio.to_thread(service(request).answers.add, agent.id, question, answer)
    except ValidationError as exc:
        return await _page(request, session, agent, error=message(exc), values=typed(form))
    return redirect(f"/console/agents/{agent.slug}/answers?done=added")


@router.post("/agents/{slug}/answers/{answer_id}")
async def edit_answer(answer_id: int, request: Request, form: Posted, agent: OwnedAgent,
                      session: SignedIn) -> Response:
    try:
        question, answer = _fields(form)
        changed = await asyncio.to_thread(service(request).answers.update, agent.id, answer_id,
                                          question, answer)
    except ValidationError as exc:
        return await _page(request, session, agent, error=message(exc), values=typed(form),
                           editing=answer_id)
    if not changed:
        raise ConsoleError(404, "There is no such answer of yours (FAQ entries change with "
                                "their file).")
    return redirect(f"/console/agents/{agent.slug}/answers?done=saved")


@router.post("/agents/{slug}/answers/{answer_id}/delete")
async def delete_answer(answer_id: int, request: Request, form: Posted, agent: OwnedAgent,
                        session: SignedIn) -> Response:
    if not await asyncio.to_thread(service(request).answers.delete, agent.id, answer_id):
        raise ConsoleError(404, "There is no such answer of yours (FAQ entries change with "
                                "their file).")
    return redirect(f"/console/agents/{agent.slug}/answers?done=deleted")
