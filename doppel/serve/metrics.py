"""Prometheus metrics, one registry per app (so tests and several apps never collide)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("doppel_http_requests_total", "HTTP requests",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("doppel_http_request_seconds", "HTTP request latency",
                                 ["route"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
        self.tokens = Counter("doppel_tokens_total", "Model tokens", ["kind"],
                              registry=self.registry)
        self.paths = Counter("doppel_answer_paths_total", "Turns by answer path", ["path"],
                             registry=self.registry)
        self.ttft = Histogram("doppel_time_to_first_token_seconds", "Time to first model token",
                              registry=self.registry,
                              buckets=(.05, .1, .2, .4, .8, 1.6, 3.2, 6.4))
        self.shield_verdicts = Counter(
            "doppel_shield_verdicts_total", "Shield verdicts that were not 'allow', and errors",
            ["stage", "shield", "action"], registry=self.registry)
        self.shield_latency = Histogram(
            "doppel_shield_seconds", "Time of one input shield check", ["shield"],
            registry=self.registry, buckets=(.001, .0025, .005, .01, .02, .04, .08, .16, .5, 2))
        self.queue_depth = Gauge("doppel_queue_waiting", "Requests waiting for a model",
                                 ["backend"], registry=self.registry)

    def record_turn(self, path: str, prompt_tokens: int, completion_tokens: int,
                    ttft_ms: float | None) -> None:
        self.paths.labels(path).inc()
        self.tokens.labels("prompt").inc(prompt_tokens)
        self.tokens.labels("completion").inc(completion_tokens)
        if ttft_ms is not None:
            self.ttft.observe(ttft_ms / 1000)

    def record_result(self, result: Any) -> None:
        """A finished turn (runtime.TurnResult): its path, tokens, TTFT and shield verdicts."""
        self.record_turn(result.path, result.prompt_tokens, result.completion_tokens,
                         result.timings.get("ttft_ms"))
        shields = result.shields or {}
        for verdict in (shields.get("input") or {}).get("verdicts", []):
            self.shield_latency.labels(verdict["shield"]).observe(verdict["latency_ms"] / 1000)
            self._count("input", verdict)
        for report in shields.get("output") or []:
            for verdict in report.get("verdicts", []):
                self._count("output", verdict)

    def _count(self, stage: str, verdict: dict[str, Any]) -> None:
        action = "error" if verdict.get("error") else verdict.get("action", "allow")
        if action != "allow":
            self.shield_verdicts.labels(stage, verdict["shield"], action).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts requests and their latency by route template (not raw path: bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(name, scope["method"], str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)
