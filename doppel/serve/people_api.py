"""A person in the conversation, what the tools collected, and what the agent remembers of a
customer, over HTTP.

Owner routes (under /api, an admin key, the owner's own agents only):
- `GET  /api/agents/{slug}/handoffs`: conversations waiting for or held by a person, with the
  reason and the last messages;
- `POST /api/agents/{slug}/conversations/{id}/reply`: a person's reply, shown to the customer
  in the same conversation (the person now holds it: the agent stays silent);
- `POST /api/agents/{slug}/conversations/{id}/handback`: the agent takes over again, and the
  customer is told;
- `GET  /api/agents/{slug}/leads`, `GET /api/agents/{slug}/bookings`, and
  `POST /api/agents/{slug}/bookings/{id}` ({"status": "confirmed" | "declined"});
- `PUT  /api/agents/{slug}/secrets/{name}` and `GET /api/agents/{slug}/secrets` (names and
  dates only: a secret's value is never read back);
- `GET  /api/agents/{slug}/conversations/{id}/memory`, `PUT|DELETE /api/agents/{slug}/memory/
  {item_id}`: what the agent remembers of a customer, edited or deleted;
- `DELETE /api/agents/{slug}/conversations/{id}`: the customer's conversation and memory
  erased (logged by count, without content).

Customer route: `GET /v1/messages?model=SLUG&after=ID` with the conversation's
`X-Doppel-Thread` header: a person's replies and notices after message ID, which the chat page
polls while a person holds the conversation.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field, field_validator

from doppel.serve.auth import Principal, chat_agent, owned_agent, principal
from doppel.serve.errors import APIError
from doppel.service import Doppel

router = APIRouter()


def _app(request: Request) -> Doppel:
    return request.app.state.doppel  # type: ignore[no-any-return]


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class BookingDecision(BaseModel):
    status: Literal["confirmed", "declined"]


class SecretIn(BaseModel):
    value: str = Field(min_length=16, max_length=512)


@router.get("/api/agents/{slug}/handoffs")
def list_handoffs(slug: str, request: Request,
                  who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    out = []
    for held in app.conversations.held(agent.id):
        turns = app.conversations.turns(agent.id, conversation_id=held["id"], limit=6)
        out.append(held | {"last": [{"question": t.user_message, "answer": t.answer,
                                     "path": t.path, "at": t.created_at} for t in turns]})
    return {"data": out, "waiting": sum(1 for h in out if h["state"] == "waiting_for_human")}


@router.post("/api/agents/{slug}/conversations/{conversation_id}/reply", status_code=201)
def reply(slug: str, conversation_id: int, body: ReplyIn, request: Request,
          who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    # The customer sees the business's contact name, never the owner's sign-in name.
    message_id = app.reply_as_person(agent, conversation_id, body.text,
                                     agent.spec.contact.name or agent.spec.name)
    return {"id": message_id, "state": "human"}


@router.post("/api/agents/{slug}/conversations/{conversation_id}/handback")
def handback(slug: str, conversation_id: int, request: Request,
             who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    app.hand_back(agent, conversation_id)
    return {"state": "agent"}


@router.get("/api/agents/{slug}/leads")
def list_leads(slug: str, request: Request,
               who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    return {"data": app.records.leads(owned_agent(app, who, slug).id)}


@router.get("/api/agents/{slug}/bookings")
def list_bookings(slug: str, request: Request,
                  who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    return {"data": app.records.bookings(owned_agent(app, who, slug).id)}


@router.post("/api/agents/{slug}/bookings/{booking_id}")
def decide_booking(slug: str, booking_id: int, body: BookingDecision, request: Request,
                   who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    found, calendar = app.decide_booking(agent, booking_id, body.status)
    if not found:
        raise APIError(404, f"no booking request #{booking_id}")
    # "calendar updated" / "the calendar could not be updated" with a CalDAV calendar
    return {"id": booking_id, "status": body.status, "calendar": calendar}


@router.get("/api/agents/{slug}/secrets")
def list_secrets(slug: str, request: Request,
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    return {"data": [{"name": n, "updated_at": at}
                     for n, at in app.runtime.secrets.names(agent.id)]}


@router.put("/api/agents/{slug}/secrets/{name}", status_code=204)
def set_secret(slug: str, name: str, body: SecretIn, request: Request,
               who: Principal = Depends(principal)) -> None:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    app.runtime.secrets.set(agent.id, name, body.value)


@router.get("/v1/messages")
def customer_messages(request: Request, model: str = Query(max_length=64),
                      after: int = Query(0, ge=0),
                      who: Principal = Depends(principal),
                      x_doppel_thread: str | None = Header(None, max_length=128)
                      ) -> dict[str, Any]:
    """A person's replies and notices in the caller's conversation, after message `after`."""
    app = _app(request)
    agent = chat_agent(app, who, model)
    if not x_doppel_thread:
        raise APIError(422, "give the conversation's X-Doppel-Thread header",
                       param="X-Doppel-Thread")
    # The same namespacing as /v1/chat/completions: a thread is the caller's own.
    thread = f"{f'k{who.key.id}' if who.key else 'anon'}:{x_doppel_thread}"
    conversation_id = app.conversations.find(agent.id, thread)
    if conversation_id is None:
        return {"data": [], "state": "agent"}
    messages = app.conversations.messages(conversation_id, after)
    return {"data": [asdict(m) for m in messages],
            "state": app.conversations.holder(conversation_id).state}


class MemoryIn(BaseModel):
    value: str = Field(min_length=1, max_length=200)

    @field_validator("value")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


@router.get("/api/agents/{slug}/conversations/{conversation_id}/memory")
def conversation_memory(slug: str, conversation_id: int, request: Request,
                        who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    agent = owned_agent(app, who, slug)
    if not app.conversations.owns(agent.id, conversation_id):
        raise APIError(404, f"no conversation #{conversation_id}")
    return {"data": [asdict(m) for m in app.memory.of_conversation(agent.id, conversation_id)]}


@router.put("/api/agents/{slug}/memory/{item_id}")
def edit_memory(slug: str, item_id: int, body: MemoryIn, request: Request,
                who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    if not app.memory.edit(owned_agent(app, who, slug).id, item_id, body.value.strip()):
        raise APIError(404, f"no memory item #{item_id}")
    return {"id": item_id, "value": body.value.strip()}


@router.delete("/api/agents/{slug}/memory/{item_id}", status_code=204)
def delete_memory(slug: str, item_id: int, request: Request,
                  who: Principal = Depends(principal)) -> None:
    app = _app(request)
    if not app.memory.delete(owned_agent(app, who, slug).id, item_id):
        raise APIError(404, f"no memory item #{item_id}")


@router.delete("/api/agents/{slug}/conversations/{conversation_id}")
def erase_conversation(slug: str, conversation_id: int, request: Request,
                       who: Principal = Depends(principal)) -> dict[str, Any]:
    app = _app(request)
    counts = app.memory.erase_conversation(owned_agent(app, who, slug).id, conversation_id,
                                           "the owner deleted it")
    if counts is None:
        raise APIError(404, f"no conversation #{conversation_id}")
    return {"erased": counts}
