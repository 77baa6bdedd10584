"""`doppel channels`: connect an agent to WhatsApp, Messenger, Instagram or Telegram, see how
its deliveries went, send a test message, disconnect. The same checks as the console and the
owner API (doppel.channels.hub): a token the platform rejects is reported and nothing saved."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import click

from doppel.channels import CHANNELS
from doppel.cli.base import fail, handle_errors, service_of
from doppel.service import Doppel

__all__ = ["channels"]


@click.group()
def channels() -> None:
    """Where customers already are: WhatsApp, Messenger, Instagram, Telegram."""


@channels.command("list")
@click.argument("agent")
@click.pass_context
@handle_errors
def channels_list(ctx: click.Context, agent: str) -> None:
    """Each channel, connected or not, with its webhook URL and the latest deliveries."""
    app = service_of(ctx)
    record = app.agents.get(agent)
    links = {link.channel: link for link in app.channel_store.links(record.id)}
    for channel in CHANNELS:
        link = links.get(channel.name)
        state = f"{link.status} · {link.status_detail}" if link else "not connected"
        click.echo(f"{channel.name:10s} {state}")
        if link:
            click.echo(f"{'':10s} webhook: {app.channels.webhook_url(record, channel.name)}")
            for row in app.channel_store.outbox(record.id, channel.name, 3):
                click.echo(f"{'':10s} {row['created_at'][:19]} to {row['user_key']}: "
                           f"{row['state']}{' · ' + row['error'] if row['error'] else ''}")


@channels.command("connect")
@click.argument("agent")
@click.argument("channel", type=click.Choice(sorted(CHANNELS.names())))
@click.option("--account", default="", help="The platform's id for the business (WhatsApp's "
              "phone number ID, the Page ID, the Instagram account ID); not for Telegram.")
@click.option("--secret", "secrets", multiple=True, metavar="NAME",
              help="A secret to give, read from the environment variable DOPPEL_SECRET_<NAME> "
              "or asked for (never on the command line, where shells keep history): "
              "bot_token; access_token, app_secret, verify_token.")
@click.pass_context
@handle_errors
def channels_connect(ctx: click.Context, agent: str, channel: str, account: str,
                     secrets: tuple[str, ...]) -> None:
    """Check the credentials with the platform, register the webhook, save them."""
    app = service_of(ctx)
    record = app.agents.get(agent)
    known = CHANNELS.get(channel).secrets
    given: dict[str, str] = {}
    for name in secrets or tuple(n for n in known if n not in
                                 CHANNELS.get(channel).optional_secrets):
        if name not in known:
            fail(f"{channel} takes the secrets {', '.join(known)}, not {name!r}")
        given[name] = os.environ.get(f"DOPPEL_SECRET_{name.upper()}") or click.prompt(
            known[name], hide_input=True)
    out = asyncio.run(app.channels.connect(record, channel, account, given))
    click.echo(f"{channel}: {out['detail']}")
    click.echo(f"webhook: {out['webhook_url']}")
    if "verify_token" in out:
        click.echo(f"verify token (paste it in Meta's dashboard; it is not shown again): "
                   f"{out['verify_token']}")


@channels.command("test")
@click.argument("agent")
@click.argument("channel", type=click.Choice(sorted(CHANNELS.names())))
@click.option("--to", default="", help="The customer's id on the channel (default: the latest "
              "who wrote).")
@click.pass_context
@handle_errors
def channels_test(ctx: click.Context, agent: str, channel: str, to: str) -> None:
    """Send a test message."""
    app = service_of(ctx)
    out = asyncio.run(app.channels.send_test(app.agents.get(agent), channel, to))
    click.echo(f"sent to {out['to']}")


@channels.command("disconnect")
@click.argument("agent")
@click.argument("channel", type=click.Choice(sorted(CHANNELS.names())))
@click.pass_context
@handle_errors
def channels_disconnect(ctx: click.Context, agent: str, channel: str) -> None:
    """Stop answering on a channel; its saved secrets are deleted."""
    app = service_of(ctx)
    if not asyncio.run(app.channels.disconnect(app.agents.get(agent), channel)):
        fail(f"{channel} is not connected to {agent}")
    click.echo(f"{channel} disconnected")


@channels.command("work")
@click.option("--nice", default=10, show_default=True, type=click.IntRange(0, 19),
              help="CPU priority below the servers' (added to this process's niceness): on "
              "a shared machine, acknowledgements come before answers.")
@click.pass_context
@handle_errors
def channels_work(ctx: click.Context, nice: int) -> None:
    """Answer and send for every agent's channels, without a web server.

    Run one beside `doppel serve` on the same data directory, with DOPPEL_CHANNEL_ANSWERS=false
    for the servers: they then only acknowledge and record deliveries, so acknowledgements
    never wait behind answers. Stops on Ctrl-C or SIGTERM; what it was answering is answered
    again by the next worker (nothing is lost, nothing sent twice)."""
    if nice:
        os.nice(nice)
    asyncio.run(_work(service_of(ctx)))


async def _work(app: Doppel) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    hub = app.channels
    await hub.start(answer=True)
    await hub.tried.wait()
    said = ""
    try:
        while not stop.is_set():
            now = ("answering and sending for this installation's channels (Ctrl-C stops)"
                   if hub.leading else "another process answers now; taking over when it stops")
            if now != said:
                click.echo(now)
                said = now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        await hub.stop()
