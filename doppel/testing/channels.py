"""Fakes of the messaging platforms, as real HTTP servers on 127.0.0.1.

- `FakeGraphAPI`: Meta's Graph API as doppel's WhatsApp, Messenger and Instagram channels call
  it — bearer-token checks (code 190 on a bad one), account look-ups, `/{id}/messages`,
  the handover protocol — recording every call; `fail` scripts errors for the next sends
  (a rate limit, the closed 24-hour window, Meta down) by Graph error code; `deliver` posts
  a webhook signed exactly as Meta signs it.
- `FakeTelegramAPI`: the Bot API's `getMe`, `setWebhook`, `deleteWebhook` and `sendMessage`,
  with 401 on a wrong token and 429 + `retry_after` when scripted; `deliver` posts an update
  to the registered webhook with its secret token, as Telegram does.
- Payload builders for the platforms' webhook bodies, and `meta_signature` to sign them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from typing import Any

import httpx

from doppel.testing import _JSONHandler, _LocalHTTPServer, _QuietServer

__all__ = ["FakeGraphAPI", "FakeTelegramAPI", "instagram_message", "messenger_echo",
           "messenger_message", "meta_signature", "telegram_update", "whatsapp_message",
           "whatsapp_status"]


def meta_signature(app_secret: str, raw: bytes) -> str:
    """The X-Hub-Signature-256 header Meta sends with `raw` under `app_secret`."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


def whatsapp_message(phone_number_id: str, text: str, *, wa_id: str = "15551230001",
                     message_id: str = "", user_id: str = "", with_phone: bool = True
                     ) -> dict[str, Any]:
    """A WhatsApp Cloud API `messages` webhook with one text message (a BSUID in `user_id`
    when given; `with_phone=False` is a user whose number is hidden behind a username)."""
    contact: dict[str, Any] = {"profile": {"name": "Customer"}}
    message: dict[str, Any] = {"id": message_id or f"wamid.{time.monotonic_ns()}",
                               "timestamp": str(int(time.time())), "type": "text",
                               "text": {"body": text}}
    if with_phone:
        contact["wa_id"] = wa_id
        message["from"] = wa_id
    if user_id:
        contact["user_id"] = user_id
        message["from_user_id"] = user_id
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000",
                         "phone_number_id": phone_number_id},
            "contacts": [contact], "messages": [message]}}]}]}


def whatsapp_status(phone_number_id: str, message_id: str, status: str, *,
                    recipient: str = "15551230001", error_code: int | None = None
                    ) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message_id, "status": status, "recipient_id": recipient,
                             "timestamp": str(int(time.time()))}
    if error_code is not None:
        entry["errors"] = [{"code": error_code, "title": "error"}]
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": phone_number_id}, "statuses": [entry]}}]}]}


def messenger_message(page_id: str, psid: str, text: str, mid: str = "",
                      obj: str = "page") -> dict[str, Any]:
    return {"object": obj, "entry": [{"id": page_id, "time": int(time.time() * 1000),
                                      "messaging": [{
        "sender": {"id": psid}, "recipient": {"id": page_id},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": mid or f"m_{time.monotonic_ns()}", "text": text}}]}]}


def instagram_message(account_id: str, igsid: str, text: str, mid: str = "") -> dict[str, Any]:
    return messenger_message(account_id, igsid, text, mid, obj="instagram")


def messenger_echo(page_id: str, psid: str, text: str, mid: str = "",
                   metadata: str | None = None) -> dict[str, Any]:
    """A message the Page sent (from the Page inbox unless `metadata` says otherwise)."""
    message: dict[str, Any] = {"mid": mid or f"m_{time.monotonic_ns()}", "text": text,
                               "is_echo": True, "app_id": 263902037430900}
    if metadata is not None:
        message["metadata"] = metadata
    return {"object": "page", "entry": [{"id": page_id, "time": int(time.time() * 1000),
                                         "messaging": [{
        "sender": {"id": page_id}, "recipient": {"id": psid},
        "timestamp": int(time.time() * 1000), "message": message}]}]}


def telegram_update(update_id: int, chat_id: int, text: str | None,
                    chat_type: str = "private") -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": update_id, "date": int(time.time()),
                               "chat": {"id": chat_id, "type": chat_type},
                               "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"}}
    if text is None:
        message["photo"] = [{"file_id": "x", "width": 1, "height": 1}]
    else:
        message["text"] = text
    return {"update_id": update_id, "message": message}


class FakeGraphAPI(_LocalHTTPServer):
    """Meta's Graph API on 127.0.0.1. `accounts`: id -> fields returned by GET /{id};
    `sent`: (path, JSON body) of every POST that succeeded; `fail(code, n)`: the next n POSTs
    to a /messages path answer that Graph error."""

    def __init__(self, token: str, accounts: dict[str, dict[str, Any]]) -> None:
        self.token, self.accounts = token, accounts
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[int] = []
        self.bad_tokens = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(_JSONHandler):
            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {fake.token}":
                    return True
                fake.bad_tokens += 1
                self._json(400, {"error": {
                    "message": "Invalid OAuth access token - Cannot parse access token",
                    "type": "OAuthException", "code": 190}})
                return False

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if not self._authorised():
                    return
                account = self.path.split("?")[0].rsplit("/", 1)[-1]
                if account not in fake.accounts:
                    self._json(400, {"error": {"message": f"Unsupported get request. Object "
                                               f"with ID '{account}' does not exist",
                                               "type": "GraphMethodException", "code": 100}})
                    return
                self._json(200, {"id": account, **fake.accounts[account]})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self._body()
                if not self._authorised():
                    return
                path = "/" + self.path.split("?")[0].split("/", 2)[-1]
                with fake._lock:
                    code = fake.failures.pop(0) if (
                        fake.failures and path.endswith("/messages")) else None
                    n = next(fake._ids)
                if code is not None:
                    status = 400 if code in (131047, 100, 190, 551) else 429 if code in (
                        130429, 131056, 4, 613) else 500
                    self._json(status, {"error": {"message": f"error {code}", "code": code,
                                                  "type": "OAuthException"}})
                    return
                fake.sent.append((path, body))
                if body.get("messaging_product") == "whatsapp":
                    self._json(200, {"messaging_product": "whatsapp",
                                     "messages": [{"id": f"wamid.OUT{n}"}]})
                elif path.endswith("_thread_control"):
                    self._json(200, {"success": True})
                else:
                    self._json(200, {"recipient_id": (body.get("recipient") or {}).get("id"),
                                     "message_id": f"m_OUT{n}"})

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def fail(self, code: int, times: int = 1) -> None:
        """The next `times` sends answer Graph error `code`: 131047 (the 24-hour window) as a
        400, 130429/131056/4/613 (rate limits) as a 429, 1 or 2 (Meta is down) as a 500."""
        with self._lock:
            self.failures += [code] * times

    @staticmethod
    def deliver(url: str, payload: dict[str, Any], app_secret: str) -> httpx.Response:
        """POST a webhook payload as Meta does: JSON with non-ASCII characters escaped
        (lowercase \\uXXXX), signed over those exact bytes in X-Hub-Signature-256."""
        raw = json.dumps(payload, ensure_ascii=True).encode()
        return httpx.post(url, content=raw, timeout=30, headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(app_secret, raw)})

    def texts(self) -> list[str]:
        """The texts sent, in order (WhatsApp's and Messenger's shapes)."""
        out = []
        for _, body in self.sent:
            if "text" in body and isinstance(body["text"], dict):
                out.append(str(body["text"].get("body", "")))
            elif isinstance(body.get("message"), dict):
                out.append(str(body["message"].get("text", "")))
        return out


class FakeTelegramAPI(_LocalHTTPServer):
    """Telegram's Bot API on 127.0.0.1 for one bot (`token`). `webhook` and `secret` are what
    setWebhook registered; `sent`: sendMessage bodies; `throttle(n, after)`: the next n
    sendMessage calls answer 429 with retry_after."""

    def __init__(self, token: str, username: str = "bakery_bot") -> None:
        self.token, self.username = token, username
        self.webhook = ""
        self.secret = ""
        self.sent: list[dict[str, Any]] = []
        self.throttled: list[int] = []
        self.errors: list[int] = []
        self._ids = itertools.count(100)
        fake = self

        class Handler(_JSONHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self._body()
                _, bot, method = self.path.split("?")[0].split("/", 2)
                if bot != f"bot{fake.token}":
                    self._json(401, {"ok": False, "error_code": 401,
                                     "description": "Unauthorized"})
                    return
                if method == "getMe":
                    self._json(200, {"ok": True, "result": {
                        "id": int(fake.token.split(":")[0]), "is_bot": True,
                        "username": fake.username}})
                elif method == "setWebhook":
                    fake.webhook, fake.secret = body.get("url", ""), body.get("secret_token", "")
                    self._json(200, {"ok": True, "result": True})
                elif method == "deleteWebhook":
                    fake.webhook = fake.secret = ""
                    self._json(200, {"ok": True, "result": True})
                elif method == "sendMessage":
                    if fake.errors:
                        status = fake.errors.pop(0)
                        self._json(status, {"ok": False, "error_code": status,
                                            "description": "Internal Server Error"})
                        return
                    if fake.throttled:
                        after = fake.throttled.pop(0)
                        self._json(429, {"ok": False, "error_code": 429,
                                         "description": f"Too Many Requests: retry after "
                                                        f"{after}",
                                         "parameters": {"retry_after": after}})
                        return
                    if len(str(body.get("text", ""))) > 4096:
                        self._json(400, {"ok": False, "error_code": 400,
                                         "description": "Bad Request: message is too long"})
                        return
                    fake.sent.append(body)
                    self._json(200, {"ok": True, "result": {
                        "message_id": next(fake._ids), "chat": {"id": body.get("chat_id")},
                        "text": body.get("text")}})
                else:
                    self._json(404, {"ok": False, "error_code": 404,
                                     "description": "Not Found"})

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def throttle(self, times: int = 1, after: int = 1) -> None:
        self.throttled += [after] * times

    def fail(self, status: int = 502, times: int = 1) -> None:
        """The next `times` sendMessage calls answer HTTP `status` (Telegram down)."""
        self.errors += [status] * times

    def deliver(self, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        """POST an update to the registered webhook, as Telegram does."""
        if not self.webhook:
            raise RuntimeError("no webhook registered (setWebhook was not called)")
        return httpx.post(self.webhook, content=json.dumps(update).encode(), headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": self.secret if secret is None else secret},
            timeout=30)
