"""`doppel agents`, `doppel answers` and `doppel owners`: the operator's administration of
agents, approved answers, owners, keys, passwords and invitations."""

from __future__ import annotations

from pathlib import Path

import click

from doppel.agents.spec import AgentSpec
from doppel.cli.base import fail, handle_errors, service_of
from doppel.config import Settings
from doppel.owners import Owner
from doppel.service import Doppel

__all__ = ["agents", "answers", "owners"]


def _owner(app: Doppel, name: str) -> Owner:
    """The owner called `name`, or a one-line error."""
    record = app.owners.find(name)
    if record is None:
        fail(f"no owner named {name!r} (see `doppel owners list`)")
    return record


@click.group()
def agents() -> None:
    """List, show, export, import and delete agents."""


@agents.command("list")
@click.pass_context
@handle_errors
def agents_list(ctx: click.Context) -> None:
    app = service_of(ctx)
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
    app = service_of(ctx)
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
    text = service_of(ctx).agents.get(agent).spec.to_yaml()
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
        fail(f"{file} is not a file")
    spec = AgentSpec.from_yaml(file.read_text(encoding="utf-8"))
    app = service_of(ctx)
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
    app = service_of(ctx)
    app.agents.get(agent)
    if not yes:
        click.confirm(f"delete {agent} with all its knowledge and conversations?", abort=True)
    app.agents.delete(agent)
    click.echo(f"deleted agent {agent}")


# --- approved answers -----------------------------------------------------------------------------

@click.group()
def answers() -> None:
    """Owner-approved answers, used word for word when a question matches."""


@answers.command("add")
@click.argument("agent")
@click.option("-q", "--question", prompt=True, help="The question customers ask.")
@click.option("-a", "--answer", prompt=True, help="The approved answer.")
@click.pass_context
@handle_errors
def answers_add(ctx: click.Context, agent: str, question: str, answer: str) -> None:
    app = service_of(ctx)
    a = app.agents.get(agent)
    answer_id = app.answers.add(a.id, question, answer)
    click.echo(f"added approved answer #{answer_id}")


@answers.command("list")
@click.argument("agent")
@click.pass_context
@handle_errors
def answers_list(ctx: click.Context, agent: str) -> None:
    app = service_of(ctx)
    for row in app.answers.list(app.agents.get(agent).id):
        click.echo(f"#{row['id']:<4} [{row['source']}] {row['question']}\n      {row['answer']}")


@answers.command("delete")
@click.argument("agent")
@click.argument("answer_id", type=int)
@click.pass_context
@handle_errors
def answers_delete(ctx: click.Context, agent: str, answer_id: int) -> None:
    app = service_of(ctx)
    if not app.answers.delete(app.agents.get(agent).id, answer_id):
        fail(f"no owner-approved answer #{answer_id} for {agent} (FAQ entries change with "
              f"their file)")
    click.echo(f"deleted approved answer #{answer_id}")


# --- owners, keys and the server -----------------------------------------------------------------

@click.group()
def owners() -> None:
    """Owners and their API keys (for `doppel serve`)."""


@owners.command("create")
@click.argument("name")
@click.pass_context
@handle_errors
def owners_create(ctx: click.Context, name: str) -> None:
    """Create an owner and print its first admin key (shown once)."""
    app = service_of(ctx)
    owner = app.owners.create(name)
    _, secret = app.owners.create_key(owner.id, ["admin"], label="created by the CLI")
    click.echo(f"created owner #{owner.id} {owner.name}")
    click.echo(f"admin key (shown once, keep it safe): {secret}")


@owners.command("list")
@click.pass_context
@handle_errors
def owners_list(ctx: click.Context) -> None:
    app = service_of(ctx)
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
    app = service_of(ctx)
    record = _owner(app, owner)
    for slug in agents:
        if app.agents.get(slug).owner_id != record.id:
            fail(f"agent {slug!r} does not belong to {owner}")
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
    app = service_of(ctx)
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
    app = service_of(ctx)
    record = _owner(app, owner)
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
    app = service_of(ctx)
    record = _owner(app, owner)
    app.agents.set_owner(agent, record.id)
    click.echo(f"{agent} now belongs to {owner}")
