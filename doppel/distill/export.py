"""`doppel export AGENT --out DIR`: one agent as a folder that runs offline on another laptop.

The folder holds a data directory with a database of this agent alone (its spec and persona,
its passages with their vectors and full-text index, its approved answers), the models it needs
(the chat model GGUF, the MiniLM ONNX embedder, and the agent's student adapter when it has an
active one), the wheel of the doppel that exported it (`wheels/`), `install.sh`, which installs
that wheel and its dependencies into `.venv/` there, and `run.py`, a runner: `python3 run.py`
chats in the terminal, `python3 run.py serve` starts the web page and the API on 127.0.0.1.

The wheel is made from the running installation, so the laptop runs the code that exported the
data: built from the source checkout when doppel runs from one (an editable install, `make`'s),
otherwise re-packed from the installed files that the distribution's RECORD lists.

What is left out on purpose: other agents, every conversation, lead, booking request and memory
(customers' words are not the owner's to hand around), owners, API keys, the agent's secrets,
console sessions and import jobs. The database is copied from either store (SQLite or
PostgreSQL) into a fresh SQLite file by `doppel.store.copy`.

The folder is built beside the target and renamed at the end: an interrupted export leaves no
half-written folder behind, and an existing folder is never overwritten.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import doppel
from doppel.agents.repo import Agent
from doppel.errors import ConfigError, ValidationError
from doppel.models.prepare import model_paths
from doppel.service import Doppel
from doppel.store.copy import copy_database
from doppel.store.sqlite import SQLiteDatabase

__all__ = ["ExportResult", "build_wheel_from_source", "doppel_wheel", "export_agent",
           "install_steps", "repack_distribution", "source_checkout"]

RUNNER = '''#!/usr/bin/env python3
"""Run the exported agent {slug!r} offline: `python3 run.py` (chat), `python3 run.py serve`,
or `python3 run.py ask "a question"`. Install first: `sh install.sh` (see README.txt)."""

import os
import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
os.environ["DOPPEL_HOME"] = str(here / "home")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The environment install.sh made here, else whatever Python runs this file.
venv = here / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
python = str(venv) if venv.is_file() else sys.executable
command = sys.argv[1] if len(sys.argv) > 1 else "chat"
if command == "serve":
    args = ["serve", *sys.argv[2:]]
elif command == "ask":
    args = ["chat", {slug!r}, "-m", " ".join(sys.argv[2:])]
else:
    args = ["chat", {slug!r}, *sys.argv[2:]]
sys.exit(subprocess.call([python, "-m", "doppel", *args]))
'''


def install_steps(wheel: str) -> list[tuple[str, str]]:
    """(why, shell command) for each step that installs an exported folder, run from inside
    it: README.txt shows them and install.sh runs them, so the two cannot disagree."""
    return [
        ("a virtual environment in this folder", '"$PYTHON" -m venv .venv'),
        ("doppel and its server from the wheel here; their dependencies from the registry",
         f'.venv/bin/python -m pip install "wheels/{wheel}[serve]"'),
        (("llama-cpp-python, built portably for this CPU (never -march=native: it crashes on "
          "CPUs with AMX), once per machine, kept in ~/.cache/doppel/wheels"),
         ".venv/bin/python -m doppel.models.llamabuild ensure"),
        ("the embedded model's other dependencies (pip keeps the llama-cpp-python above)",
         f'.venv/bin/python -m pip install "wheels/{wheel}[serve,embedded]"'),
    ]


def _install_script(wheel: str) -> str:
    lines = ["#!/bin/sh",
             "# Installs this exported agent into .venv/ here (README.txt says the same).",
             "# PYTHON: the interpreter to use (3.11 or newer); python3 by default.",
             "set -eu", 'cd "$(dirname "$0")"', 'PYTHON="${PYTHON:-python3}"']
    for why, command in install_steps(wheel):
        lines += [f"# {why}", command]
    lines.append('echo "installed: now run  python3 run.py  (or: python3 run.py serve)"')
    return "\n".join(lines) + "\n"


def _readme(name: str, wheel: str) -> str:
    by_hand = [command.replace('"$PYTHON"', "python3") for _, command in install_steps(wheel)]
    steps = "".join(f"    {command}\n" for command in by_hand)
    return f"""{name}, exported from doppel {doppel.__version__}.

Install, once (Python 3.11 or newer; the package registry must be reachable for doppel's
dependencies):

    sh install.sh

It makes .venv/ in this folder and installs doppel from wheels/{wheel}, its
dependencies from the registry, and llama-cpp-python compiled for this CPU (several minutes,
once per machine: the build is kept in ~/.cache/doppel/wheels). The same steps by hand (on
Windows, .venv\\Scripts\\python instead of .venv/bin/python):

{steps}
Then:

    python3 run.py                    # chat in the terminal
    python3 run.py ask "a question"   # one answer
    python3 run.py serve              # chat page and OpenAI-compatible API on 127.0.0.1:8080

Once installed, everything runs offline from this folder.
"""


@dataclass
class ExportResult:
    path: Path
    bytes: int
    passages: int
    approved_answers: int
    adapter: bool
    wheel: str  # file name, under wheels/


def export_agent(app: Doppel, agent: Agent, out: Path) -> ExportResult:
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValidationError(f"{out} already exists and is not empty: choose a new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        home = work / "home"
        (home / "models").mkdir(parents=True)
        passages, answers = _database(app, agent, home / "doppel.db")
        paths = model_paths(app.settings)
        for source in (paths.chat, paths.embedder_onnx, paths.embedder_tokenizer):
            if not source.is_file():
                raise ValidationError(f"model file missing: {source} (run `doppel init`)")
            shutil.copy2(source, home / "models" / source.name)
        adapter = _adapter(app, agent, home)
        (work / "agent.yaml").write_text(agent.spec.to_yaml(), encoding="utf-8")
        wheel = doppel_wheel(work / "wheels")
        runner = work / "run.py"
        runner.write_text(RUNNER.format(slug=agent.slug), encoding="utf-8")
        runner.chmod(0o755)
        install = work / "install.sh"
        install.write_text(_install_script(wheel.name), encoding="utf-8")
        install.chmod(0o755)
        (work / "README.txt").write_text(_readme(agent.spec.name, wheel.name), encoding="utf-8")
        if out.exists():
            out.rmdir()  # empty, checked above
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return ExportResult(out, size, passages, answers, adapter, wheel.name)


def _database(app: Doppel, agent: Agent, target: Path) -> tuple[int, int]:
    """A SQLite database of this agent's knowledge alone, read from one consistent snapshot of
    the server's store (which keeps being written meanwhile)."""
    copy = SQLiteDatabase(target)
    try:
        report = copy_database(app.db, copy, agent_id=agent.id)
        copy.connect().execute("VACUUM")
    finally:
        copy.close()
    return report.rows.get("chunks", 0), report.rows.get("approved_answers", 0)


def _adapter(app: Doppel, agent: Agent, home: Path) -> bool:
    """The agent's active student, when it has one: its adapter and report, at the same place
    relative to the data directory (the database stores them relative to it)."""
    from doppel.agents.students import StudentRepo

    student = StudentRepo(app.db, app.settings.home).active(agent.id)
    if student is None or not student.adapter_gguf.is_file():
        return False
    try:
        relative = student.dir.resolve().relative_to(app.settings.home.resolve())
    except ValueError:
        relative = Path("students") / agent.slug
    target = home / relative
    target.mkdir(parents=True)
    for source in (student.adapter_gguf, student.dir / "report.md", student.dir / "report.png"):
        if source.is_file():
            shutil.copy2(source, target / source.name)
    return True


# --- the wheel of the running doppel ------------------------------------------------------------

# Made by the installer, not part of the distribution (PEP 376, PEP 610); RECORD is written anew.
_INSTALLER_FILES = frozenset({"RECORD", "RECORD.jws", "RECORD.p7s", "INSTALLER", "REQUESTED",
                              "direct_url.json"})


def doppel_wheel(target: Path) -> Path:
    """A wheel of the doppel that is running, written into `target`: built from its source
    checkout when it runs from one, else re-packed from the installed distribution."""
    root = source_checkout()
    if root is not None:
        return build_wheel_from_source(root, target)
    return repack_distribution(importlib.metadata.distribution("doppel"), target)


def source_checkout() -> Path | None:
    """The source checkout the running doppel is imported from (an editable install, or a
    checkout on sys.path), or None when it runs from an installed distribution."""
    package = Path(doppel.__file__).resolve().parent
    # A checkout: pyproject.toml beside the package. (Metadata alone cannot tell: the
    # doppel.egg-info an editable build leaves in the checkout reads as a distribution there.)
    if (package.parent / "pyproject.toml").is_file():
        return package.parent
    try:
        dist = importlib.metadata.distribution("doppel")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ConfigError(f"the running doppel ({package}) is neither installed nor in a "
                          "source checkout") from exc
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable") and direct.get("url", "").startswith("file:"):
        root = Path(unquote(urlparse(direct["url"]).path)).resolve()  # a src/ layout
        if package.is_relative_to(root) and (root / "pyproject.toml").is_file():
            return root
    installed = Path(str(dist.locate_file("doppel/__init__.py"))).resolve()
    if installed != package / "__init__.py":
        raise ConfigError(f"the running doppel ({package}) is not the installed one "
                          f"({installed.parent})")
    return None


def build_wheel_from_source(root: Path, target: Path) -> Path:
    """Build doppel's wheel from the checkout at `root` with this interpreter's pip and
    setuptools, offline (no build isolation), from a copy of the checkout's files: a stale
    build/ folder there would otherwise leak deleted modules into the wheel."""
    missing = [m for m in ("pip", "setuptools") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"building doppel's wheel from {root} needs {' and '.join(missing)} "
                          f"in this environment ({sys.executable} -m pip install setuptools)")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="doppel-wheel-") as scratch:
        source, out = Path(scratch) / "src", Path(scratch) / "out"
        _copy_sources(root, source)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--disable-pip-version-check", "--no-input", "--wheel-dir", str(out), str(source)],
            check=False, capture_output=True, text=True, timeout=300)
        wheels = sorted(out.glob("doppel-*.whl")) if out.is_dir() else []
        if proc.returncode != 0 or len(wheels) != 1:
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ConfigError(f"building doppel's wheel from {root} failed: "
                              + (" / ".join(detail) or f"exit code {proc.returncode}"))
        wheel = target / wheels[0].name
        shutil.move(str(wheels[0]), wheel)
    return wheel


def _copy_sources(root: Path, dest: Path) -> None:
    """What a fresh clone would hold (plus uncommitted work): the files git tracks or would
    track. Without git, the files the build reads: pyproject.toml, README, the package."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached",
                                 "--others", "--exclude-standard"],
                                capture_output=True, check=True, timeout=60).stdout
        names = [n for n in os.fsdecode(listed).split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        names = [n for n in ("pyproject.toml", "README.md", "LICENSE") if (root / n).is_file()]
        names += [str(f.relative_to(root)) for f in (root / "doppel").rglob("*")
                  if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"]
    for name in names:
        src = root / name
        if src.is_file() and not src.is_symlink():  # deleted but still in git's index: gone
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def repack_distribution(dist: importlib.metadata.Distribution, target: Path) -> Path:
    """A wheel of an installed distribution, made of the files its RECORD lists.

    Left out: what the installer made (compiled .pyc files, console scripts outside
    site-packages, INSTALLER, REQUESTED, direct_url.json); RECORD is written anew. A file whose
    hash no longer matches RECORD was changed after installation: refused, rather than ship
    code that is not the installed release."""
    entries = list(dist.files or [])
    info = next((p.parts[0] for p in entries
                 if len(p.parts) == 2 and p.parts[0].endswith(".dist-info")
                 and p.name == "METADATA"), None)
    if info is None:
        raise ConfigError(f"{dist.metadata['Name']} has no RECORD listing its files: "
                          "reinstall it with pip")
    files: list[tuple[str, bytes, int]] = []
    for entry in entries:
        parts = entry.parts
        if entry.is_absolute() or parts[0] == ".." or "__pycache__" in parts \
                or entry.suffix == ".pyc" or (parts[0] == info and entry.name in _INSTALLER_FILES):
            continue
        path = Path(str(dist.locate_file(entry)))
        data = path.read_bytes()
        if entry.hash is not None and _digest(data, entry.hash.mode) != entry.hash.value:
            raise ConfigError(f"{path} differs from what was installed (its RECORD hash): "
                              f"reinstall {dist.metadata['Name']} before exporting")
        files.append((entry.as_posix(), data, path.stat().st_mode))
    wheel_meta = next((data for name, data, _ in files if name == f"{info}/WHEEL"), None)
    if wheel_meta is None:
        wheel_meta = (b"Wheel-Version: 1.0\nGenerator: doppel export\nRoot-Is-Purelib: true\n"
                      b"Tag: py3-none-any\n")
        files.append((f"{info}/WHEEL", wheel_meta, 0o644))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    target.mkdir(parents=True, exist_ok=True)
    wheel = target / f"{name}-{dist.version}-{_wheel_tag(wheel_meta.decode())}.whl"
    # The package's files first, the .dist-info folder last and RECORD at its very end (PEP 427).
    files.sort(key=lambda f: (f[0].startswith(info + "/"), f[0]))
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, data, mode in files:
            item = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            item.external_attr = (mode & 0xFFFF) << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(item, data)
            writer.writerow([arcname, f"sha256={_digest(data, 'sha256')}", len(data)])
        writer.writerow([f"{info}/RECORD", "", ""])
        zf.writestr(zipfile.ZipInfo(f"{info}/RECORD", date_time=(1980, 1, 1, 0, 0, 0)),
                    record.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
    return wheel


def _digest(data: bytes, mode: str) -> str:
    """A RECORD hash: urlsafe base64 without padding (PEP 376)."""
    return base64.urlsafe_b64encode(hashlib.new(mode, data).digest()).rstrip(b"=").decode()


def _wheel_tag(wheel_meta: str) -> str:
    """The file-name tag of a WHEEL file's `Tag:` lines, compressed (`py2.py3-none-any`)."""
    tags = [line.split(":", 1)[1].strip() for line in wheel_meta.splitlines()
            if line.startswith("Tag:")] or ["py3-none-any"]
    columns = [sorted({t.split("-")[i] for t in tags}) for i in range(3)]
    return "-".join(".".join(c) for c in columns)
