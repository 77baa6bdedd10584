"""The app factory: `create_app(settings)` wires the OpenAI-compatible API, the owner API, the
public pages, health checks and metrics over one `Doppel` service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from doppel import __version__
from doppel.config import Settings
from doppel.serve import channels_api, console, openai_api, owner_api, people_api, web
from doppel.serve.errors import install_error_handlers
from doppel.serve.limits import BodyLimitMiddleware, failure_throttle, rate_limiter
from doppel.serve.metrics import Metrics, MetricsMiddleware
from doppel.serve.security import (
    ClientAddressMiddleware,
    HostCheckMiddleware,
    SecurityHeadersMiddleware,
)
from doppel.service import Doppel

log = logging.getLogger(__name__)


INDEX_AGENTS = 100  # public agents named by GET /


def create_app(settings: Settings | None = None, *, doppel: Doppel | None = None,
               preload: bool = True) -> FastAPI:
    """The HTTP app. `doppel` may be given (tests inject fakes); `preload` loads the models
    at start-up so the first request does not pay for it and /readyz tells the truth."""
    service = doppel or Doppel(settings or Settings())
    queues = service.enable_queues()
    metrics = Metrics()
    state: dict[str, Any] = {"ready": False, "error": None}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.imports.recover()
        service.imports.start_worker()  # jobs other processes queued run here too
        if preload:
            try:
                await asyncio.to_thread(_load_models, service)
                state["ready"] = True
            except Exception as exc:  # the server still answers /healthz and explains
                state["error"] = str(exc)
                log.error("models failed to load: %s", exc)
        else:
            state["ready"] = True
        # The channels' hub: answers what a previous run left unanswered, sends the outbox.
        await service.channels.start()
        try:
            yield
        finally:
            await service.channels.stop()

    app = FastAPI(title="doppel", version=__version__, lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    app.state.doppel = service
    app.state.imports = service.imports
    app.state.metrics = metrics
    settings = service.settings
    app.state.limits = {
        "key": rate_limiter(settings, settings.rate_per_key_per_minute, "key"),
        "user": rate_limiter(settings, settings.rate_per_user_per_minute, "user")}
    # Failed console sign-ins and bad API keys, per client address (see auth.py).
    app.state.auth_failures = failure_throttle(settings, "auth-address")
    install_error_handlers(app)
    app.include_router(openai_api.router)
    app.include_router(owner_api.router)
    app.include_router(people_api.router)
    app.include_router(channels_api.router)
    app.include_router(web.router)
    console.install(app)
    app.mount("/static", StaticFiles(directory=str(web.WEB / "static")), name="static")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        if state["ready"]:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "loading" if not state["error"] else "error",
                             "error": state["error"]}, status_code=503)

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        for name, queue in queues.items():
            metrics.queue_depth.labels(name).set(queue.waiting)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/")
    def index(request: Request) -> dict[str, Any]:
        # The first public agents only: the rest are a page of /v1/models away (an installation
        # may hold millions).
        public, more = service.agents.page(public=True, limit=INDEX_AGENTS)
        out = {"name": "doppel", "version": __version__, "api": "/v1",
               "agents": {a.slug: f"/a/{a.slug}" for a in public}}
        if more:
            out["more_agents"] = f"/v1/models?after={public[-1].slug}"
        return out

    s = service.settings
    app.add_middleware(BodyLimitMiddleware, default=s.max_request_bytes,
                       uploads=s.max_upload_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # Added last = run first: the client's real address for everything below; then the Host
    # check, before any route; outermost, the headers every response carries (a 400 too).
    app.add_middleware(ClientAddressMiddleware, trusted=s.trusted_proxies)
    app.add_middleware(HostCheckMiddleware, settings=s)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def _load_models(service: Doppel) -> None:
    service.embedder.embed(["warm-up"])
    from doppel.agents.spec import AgentSpec

    service.backend_for(AgentSpec(slug="warm-up", name="warm-up"))


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and multi-worker serving: Settings from the environment."""
    return create_app(Settings())
