"""The Unanswered tab: questions the agent could not answer, grouped by meaning; one answer
becomes an approved answer for the question and its ticked paraphrases."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from doppel.agents.repo import Agent
from doppel.errors import ValidationError
from doppel.serve.console.deps import OwnedAgent, Posted, SignedIn, redirect, render, service
from doppel.serve.console.forms import FormError, field, message, typed
from doppel.serve.sessions import Session

__all__ = ["MAX_PARAPHRASES", "inbox_answer", "inbox_dismiss", "inbox_page", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)

MAX_PARAPHRASES = 50


@router.get("/agents/{slug}/inbox", response_class=HTMLResponse)
async def inbox_page(request: Request, agent: OwnedAgent, session: SignedIn,
                     answered: int = 0) -> Response:
    return await _inbox(request, session, agent, answered=answered)


async def _inbox(request: Request, session: Session, agent: Agent, *, answered: int = 0,
                 error: str = "", typed_values: dict[str, str] | None = None) -> Response:
    """The inbox; with an error, shown on the question's own form with the answer typed."""
    groups = await asyncio.to_thread(service(request).insights.inbox, agent.id)
    values = typed_values or {}
    here = bool(error) and values.get("question") in [g.question for g in groups[:100]]
    return render(request, "inbox.html", 422 if error else 200, session=session, agent=agent,
                  tab="inbox", groups=groups[:100], total=len(groups), answered=answered,
                  error=error, typed=values if here else {}, error_on_group=here)


@router.post("/agents/{slug}/inbox/answer")
async def inbox_answer(request: Request, form: Posted, agent: OwnedAgent,
                       session: SignedIn) -> Response:
    try:
        question = field(form, "question", "Question", 2000, required=True)
        answer = field(form, "answer", "Your answer", 8000)
        if not answer:
            raise FormError("Your answer", "Write an answer before sending it.")
        also = _paraphrases(form)
    except ValidationError as exc:
        return await _inbox(request, session, agent, error=message(exc),
                            typed_values=typed(form))
    added = await asyncio.to_thread(service(request).insights.answer_group, agent.id,
                                    question, answer, also)
    return redirect(f"/console/agents/{agent.slug}/inbox?answered={len(added)}")


def _paraphrases(form: FormData) -> list[str]:
    """The similar questions the owner left ticked: approved with the same answer."""
    label = "Similar questions"
    values = form.getlist("also")
    if len(values) > MAX_PARAPHRASES:
        raise FormError(label, f"tick at most {MAX_PARAPHRASES} at once")
    also = []
    for value in values:
        if not isinstance(value, str):
            raise FormError(label, "expected text, not a file")
        value = value.strip()
        if len(value) > 2000:
            raise FormError(label, f"at most 2000 characters each (one has {len(value)})")
        if value:
            also.append(value)
    return also


@router.post("/agents/{slug}/inbox/dismiss")
async def inbox_dismiss(request: Request, form: Posted, agent: OwnedAgent,
                        session: SignedIn) -> Response:
    try:
        question = field(form, "question", "Question", 2000, required=True)
    except ValidationError as exc:
        return await _inbox(request, session, agent, error=message(exc))
    await asyncio.to_thread(service(request).insights.dismiss, agent.id, question)
    return redirect(f"/console/agents/{agent.slug}/inbox")
