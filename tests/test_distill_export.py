"""`doppel export`: an agent as a folder that runs offline in a fresh directory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from doppel.cli import main
from doppel.config import Settings
from doppel.demo import DEMO_SLUG
from doppel.service import Doppel
from tests.conftest import copy_demo, shared_models_dir


@pytest.mark.model
def test_export_runs_offline_in_a_fresh_directory(demo_snapshot: Path, tmp_path: Path) -> None:
    settings = Settings(home=copy_demo(demo_snapshot, tmp_path / "home"),
                        models_home=shared_models_dir())
    app = Doppel(settings)
    agent = app.agents.get(DEMO_SLUG)
    app.answers.add(agent.id, "Can I bring my parrot?", "Parrots are welcome on the patio.")
    other = app.agents.create(agent.spec.model_copy(update={"slug": "other", "name": "Other"}))
    app.ingestor.ingest_bytes(other, b"# Secret\n\nThe other agent's private notes.\n",
                              "secret.md")
    conversation = app.conversations.get_or_create(agent.id, "customer-1")
    app.conversations.record(conversation_id=conversation, agent_id=agent.id,
                             user_message="my card is 4111 1111 1111 1111", answer="ok",
                             path="dont_know", draft=None, grounding={}, passages=[],
                             prompt_tokens=0, completion_tokens=0, timings={}, model="",
                             shields={})
    owner = app.owners.create("maya")
    app.owners.create_key(owner.id, ["admin"])

    out = tmp_path / "elsewhere" / "juniper-rye"
    result = CliRunner().invoke(main, ["export", DEMO_SLUG, "--out", str(out)],
                                obj={"app": app})
    assert result.exit_code == 0, result.output
    assert "passages" in result.output
    # an existing folder is never overwritten
    again = CliRunner().invoke(main, ["export", DEMO_SLUG, "--out", str(out)], obj={"app": app})
    assert again.exit_code == 1 and "not empty" in again.output
    app.close()

    db = sqlite3.connect(out / "home" / "doppel.db")
    assert db.execute("SELECT slug FROM agents").fetchall() == [(DEMO_SLUG,)]
    for table in ("conversations", "turns", "owners", "api_keys"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
    assert db.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'secret'"
                      ).fetchone()[0] == 0
    db.close()

    # the folder runs from anywhere, offline, with only the installed package
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOPPEL_")}
    env["HF_HUB_OFFLINE"] = "1"
    answer = subprocess.run([sys.executable, str(out / "run.py"), "ask",
                             "Can I bring my parrot?"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert "Parrots are welcome on the patio." in answer.stdout
