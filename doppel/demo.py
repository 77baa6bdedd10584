"""`make run`: build the demo agent (Juniper & Rye Bakery) if needed and chat with it.

The demo business lives in examples/bakery: web pages in Markdown, a FAQ, a price list CSV,
policies in HTML and an allergen guide in PDF.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import click

from doppel.cli import _ingest_with_progress, main
from doppel.config import Settings
from doppel.service import Doppel

DEMO_SLUG = "juniper-rye"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "bakery"


def build_demo(app: Doppel, folder: Path = EXAMPLES) -> None:
    """Create the demo agent on first run; afterwards pick up any edited example file."""
    if app.agents.find(DEMO_SLUG) is None:
        main(["create", DEMO_SLUG, "--from", str(folder)], obj={"app": app},
             standalone_mode=False)
    else:
        report = _ingest_with_progress(app, DEMO_SLUG, [folder])
        click.echo(f"demo agent {DEMO_SLUG}: {report.summary()}")


def run(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build-only", action="store_true", help="Build the agent, no chat.")
    args = parser.parse_args(argv)
    app = Doppel(Settings())
    build_demo(app)
    if args.build_only:
        return
    click.secho("\nAsk Juniper & Rye anything: hours, prices, custom cakes, allergens...",
                bold=True)
    main(["chat", DEMO_SLUG], obj={"app": app})


if __name__ == "__main__":
    run()
