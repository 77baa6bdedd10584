"""`make run`: build the demo agent (Juniper & Rye Bakery) if needed and serve it.

The demo business lives in examples/bakery: web pages in Markdown, a FAQ, a price list CSV,
policies in HTML and an allergen guide in PDF. On first run a "demo" owner is created and its
admin key is written to $DOPPEL_HOME/demo-admin-key (readable by you only); the agent is public,
so its chat page and the OpenAI-compatible API answer without a key.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import click

from doppel.cli import ingest_with_progress, main
from doppel.config import Settings
from doppel.service import Doppel

DEMO_SLUG = "juniper-rye"
DEMO_OWNER = "demo"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bakery"


def build_demo(app: Doppel, folder: Path = EXAMPLES) -> None:
    """Create the demo agent on first run; afterwards pick up any edited example file."""
    if app.agents.find(DEMO_SLUG) is None:
        main(["create", DEMO_SLUG, "--from", str(folder)], obj={"app": app},
             standalone_mode=False)
    else:
        report = ingest_with_progress(app, app.agents.get(DEMO_SLUG), [folder])
        click.echo(f"demo agent {DEMO_SLUG}: {report.summary()}")


def ensure_demo_owner(app: Doppel) -> Path:
    """The demo owner owns the demo agent; its admin key is kept in a private file."""
    key_file = app.settings.home / "demo-admin-key"
    owner = app.owners.find(DEMO_OWNER)
    if owner is None or not key_file.exists():
        owner = owner or app.owners.create(DEMO_OWNER)
        _, secret = app.owners.create_key(owner.id, ["admin"], label="make run")
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
    if app.agents.get(DEMO_SLUG).owner_id != owner.id:
        app.agents.set_owner(DEMO_SLUG, owner.id)
    return key_file


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-only", action="store_true", help="Build the agent, no server.")
    parser.add_argument("--chat", action="store_true", help="Chat in the terminal instead.")
    args = parser.parse_args(argv)
    app = Doppel(Settings())
    build_demo(app)
    key_file = ensure_demo_owner(app)
    if args.build_only:
        return
    if args.chat:
        main(["chat", DEMO_SLUG], obj={"app": app})
        return
    base = f"http://{app.settings.host}:{app.settings.port}"
    click.secho(f"""
Juniper & Rye is ready.
  chat page:   {base}/a/{DEMO_SLUG}
  widget:      <script src="{base}/widget.js" data-agent="{DEMO_SLUG}" async></script>
  console:     {base}/console  (sign in with the owner key in {key_file})
  owner API:   {base}/api/...  (the same key, as a Bearer token)
  metrics:     {base}/metrics

Try it from Python (pip install openai):

  from openai import OpenAI
  client = OpenAI(base_url="{base}/v1", api_key="none")  # the demo agent is public
  reply = client.chat.completions.create(
      model="{DEMO_SLUG}", messages=[{{"role": "user", "content": "Are you open on Mondays?"}}])
  print(reply.choices[0].message.content)
""", bold=False)
    main(["serve"], obj={"app": app})


if __name__ == "__main__":
    run()
