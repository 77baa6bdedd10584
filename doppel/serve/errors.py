"""Errors in OpenAI's shape: ``{"error": {"message", "type", "code", "param"}}``.

Every error a client can cause becomes a 4xx with a message; nothing user-caused is a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from doppel.errors import (
    BackendError,
    ContextOverflowError,
    DoppelError,
    NotFoundError,
    StoreError,
    StoreUnavailable,
    ValidationError,
)
from doppel.models.queue import OverloadedError

log = logging.getLogger(__name__)

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 413: "request_too_large",
          415: "invalid_request_error", 422: "invalid_request_error",
          429: "rate_limit_error", 503: "overloaded_error"}


class APIError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers or {}


def error_body(status: int, message: str, code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": _TYPES.get(status, "api_error"),
                      "code": code, "param": param}}


def error_response(status: int, message: str, *, code: str | None = None,
                   param: str | None = None, headers: dict[str, str] | None = None
                   ) -> JSONResponse:
    return JSONResponse(error_body(status, message, code, param), status_code=status,
                        headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api(request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, exc.message, code=exc.code, param=exc.param,
                              headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return error_response(400, "the request body is not valid JSON", code="invalid_json")
        loc = [str(p) for p in first.get("loc", []) if p != "body"]
        where = ".".join(loc) or "body"
        return error_response(422, f"{where}: {first.get('msg', 'invalid')}",
                              code="invalid_value", param=where)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail),
                              headers=dict(exc.headers) if exc.headers else None)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        # e.g. an id in the path past SQLite's 64-bit integers: such a row cannot exist
        return error_response(404, "no such item (number out of range)", code="not_found")

    @app.exception_handler(UnicodeEncodeError)
    async def _unicode(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        return error_response(400, "the text contains invalid Unicode (lone surrogates)",
                              code="invalid_text")

    @app.exception_handler(DoppelError)
    async def _doppel(request: Request, exc: DoppelError) -> JSONResponse:
        if isinstance(exc, OverloadedError):
            return error_response(503, str(exc), code="overloaded",
                                  headers={"Retry-After": str(exc.retry_after)})
        if isinstance(exc, NotFoundError):
            return error_response(404, str(exc), code="not_found")
        if isinstance(exc, ValidationError):
            return error_response(422, str(exc), code="invalid_value")
        if isinstance(exc, ContextOverflowError):
            return error_response(400, str(exc), code="context_length_exceeded")
        if isinstance(exc, StoreUnavailable):  # the detail names the host: the log only
            log.error("store unavailable on %s: %s", request.url.path, exc)
            return error_response(503, "storage is unavailable; try again later",
                                  code="store_unavailable", headers={"Retry-After": "5"})
        if isinstance(exc, StoreError):  # a constraint the code did not expect: a bug
            log.error("store error on %s: %s", request.url.path, exc)
            return error_response(500, "internal error", code="internal_error")
        if isinstance(exc, BackendError):
            # The detail names internal hosts: it goes to the log, not to the client.
            log.error("model backend error on %s: %s", request.url.path, exc)
            return error_response(502, "the model backend is unavailable; try again later",
                                  code="backend_error")
        return error_response(400, str(exc))
