"""`doppel export`: an agent as a folder that installs from the wheel it carries and runs
offline in a fresh directory."""

from __future__ import annotations

import importlib.metadata
import os
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import doppel
from doppel.cli import main
from doppel.config import Settings
from doppel.demo import DEMO_SLUG
from doppel.distill.export import install_steps
from doppel.errors import ConfigError
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
                             "Can I bring my parrot?"], check=False, cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert "Parrots are welcome on the patio." in answer.stdout


# --- the folder carries the doppel that exported it ------------------------------------------

def _install_into_new_env(wheel: Path, where: Path) -> Path:
    """Install `wheel` (no dependencies) into a new bare venv; its site-packages folder.

    Not `pip install --prefix` from this venv: that uninstalls the editable doppel installed
    here first (seen with pip 26.3), breaking this venv for everyone."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True)
    out = subprocess.run([str(python), "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def test_wheel_of_an_editable_install_is_built_from_its_checkout(tmp_path: Path) -> None:
    from doppel.distill.export import doppel_wheel, source_checkout

    root = Path(__file__).resolve().parent.parent
    assert source_checkout() == root  # `make` installs doppel editable
    wheel = doppel_wheel(tmp_path / "wheels")
    names = zipfile.ZipFile(wheel).namelist()
    assert wheel.name == f"doppel-{doppel.__version__}-py3-none-any.whl"
    # what runs here, uncommitted work included
    assert (zipfile.ZipFile(wheel).read("doppel/distill/export.py")
            == (root / "doppel" / "distill" / "export.py").read_bytes())
    assert "doppel/web/templates/chat.html" in names and "doppel/cli/__init__.py" in names


def test_installed_distribution_is_repacked_from_its_record(tmp_path: Path) -> None:
    from doppel.distill.export import build_wheel_from_source, repack_distribution

    original = build_wheel_from_source(Path(__file__).resolve().parent.parent, tmp_path / "a")
    site = _install_into_new_env(original, tmp_path / "installed")

    # From that installed copy (not this checkout), doppel_wheel re-packs the distribution.
    code = ("import doppel, sys; from pathlib import Path\n"
            "from doppel.distill.export import doppel_wheel, source_checkout\n"
            "assert source_checkout() is None, doppel.__file__\n"
            "print(doppel_wheel(Path(sys.argv[1])))\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "b")], check=False,
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    repacked = Path(run.stdout.strip())
    assert repacked.name == original.name

    a, b = zipfile.ZipFile(original), zipfile.ZipFile(repacked)
    record = f"doppel-{doppel.__version__}.dist-info/RECORD"
    assert set(a.namelist()) == set(b.namelist())
    assert b.namelist()[-1] == record
    for name in a.namelist():
        if name != record:
            assert a.read(name) == b.read(name), name
    # its RECORD is right: pip installs it (pip checks every hash)
    again = _install_into_new_env(repacked, tmp_path / "again")
    assert (again / "doppel" / "web" / "static" / "chat.js").is_file()

    # a file changed after installation is not shipped as if it were the release
    dist = next(iter(importlib.metadata.distributions(name="doppel", path=[str(site)])))
    with open(site / "doppel" / "cli" / "__init__.py", "a") as f:
        f.write("# edited\n")
    with pytest.raises(ConfigError, match="differs from what was installed"):
        repack_distribution(dist, tmp_path / "c")


def _llama_wheelhouse(tmp_path: Path, env: dict[str, str]) -> None:
    """Make sure install.sh finds a compiled llama-cpp-python, without compiling it (~8 min).

    On a machine where `make` ran, the wheelhouse holds this CPU's build and install.sh runs as
    a user's would. Elsewhere the build this venv runs is re-packed into a temporary wheelhouse
    (DOPPEL_WHEELHOUSE), where install.sh's `llamabuild ensure` finds it instead of compiling."""
    from doppel.distill.export import repack_distribution
    from doppel.models.llamabuild import choose_flavor, cpu_flags, installed_build, wheel_dir

    flavor = choose_flavor(cpu_flags(), override=env.get("DOPPEL_LLAMA_FLAVOR") or None)
    house = Path(env.get("DOPPEL_WHEELHOUSE") or Path.home() / ".cache" / "doppel" / "wheels")
    if any(wheel_dir(house, flavor).glob("llama_cpp_python-*.whl")):
        return
    if installed_build().key != flavor.key:
        pytest.skip(f"no {flavor.key} build of llama-cpp-python here to install (`make llama`)")
    house = tmp_path / "wheelhouse"
    repack_distribution(importlib.metadata.distribution("llama-cpp-python"),
                        wheel_dir(house, flavor))
    env["DOPPEL_WHEELHOUSE"] = str(house)


@pytest.mark.model
def test_exported_folder_installs_and_runs_in_a_fresh_venv(demo_snapshot: Path,
                                                           tmp_path: Path) -> None:
    settings = Settings(home=copy_demo(demo_snapshot, tmp_path / "home"),
                        models_home=shared_models_dir())
    app = Doppel(settings)
    agent = app.agents.get(DEMO_SLUG)
    app.answers.add(agent.id, "Can I bring my parrot?", "Parrots are welcome on the patio.")
    out = tmp_path / "laptop" / "juniper-rye"
    result = CliRunner().invoke(main, ["export", DEMO_SLUG, "--out", str(out)],
                                obj={"app": app})
    app.close()
    assert result.exit_code == 0, result.output
    assert "sh install.sh" in result.output and "pip install doppel " not in result.output
    wheels = sorted((out / "wheels").glob("doppel-*.whl"))
    assert [w.name for w in wheels] == [f"doppel-{doppel.__version__}-py3-none-any.whl"]
    readme = (out / "README.txt").read_text()
    for _, command in install_steps(wheels[0].name):
        assert command.replace('"$PYTHON"', "python3") in readme

    # A user's shell: no DOPPEL_HOME, no venv, nothing of this checkout on the path.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOPPEL_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))
           or k in ("DOPPEL_WHEELHOUSE", "DOPPEL_LLAMA_FLAVOR")}
    env.update(HF_HUB_OFFLINE="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHON=getattr(sys, "_base_executable", sys.executable))
    _llama_wheelhouse(tmp_path, env)
    started = time.monotonic()
    install = subprocess.run(["sh", "install.sh"], check=False, cwd=out, env=env,
                             capture_output=True, text=True, timeout=1200)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    installed = time.monotonic() - started
    python = out / ".venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import doppel, llama_cpp; print(doppel.__file__)"],
                           check=False, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(out / ".venv")

    # as the README says: `python3 run.py ask ...`, from anywhere
    answer = subprocess.run([env["PYTHON"], str(out / "run.py"), "ask", "Can I bring my parrot?"],
                            check=False, cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert "Parrots are welcome on the patio." in answer.stdout
    answered = time.monotonic() - started - installed
    print(f"install.sh {installed:.1f} s, first answer {answered:.1f} s")
