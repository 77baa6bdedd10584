"""A portable, deterministic build of llama-cpp-python, chosen by CPU family, never AMX.

llama-cpp-python ships only a source package, and its default build compiles llama.cpp with
`-march=native`. On a CPU with AMX (Intel Sapphire Rapids and later) that compiles ggml's AMX
backend in, and every decode segfaults (upstream ggml-org/llama.cpp#20824). A native build is
also a different program on every machine: what passed CI on one CPU proves nothing on another.

So doppel builds llama.cpp with explicit instruction-set flags, one *flavor* per CPU family
(`FLAVORS`), picks the best flavor this CPU can run, and keeps the wheel in a folder of its own
named by version, flavor and a hash of the exact CMake arguments. pip's wheel cache is never
used (`--no-cache-dir`): it keys wheels by name and version only, so a machine that once
cached a native build would keep installing it whatever CMAKE_ARGS say.

This file runs in two ways:
- before doppel is installed, by the Makefile: `python3 doppel/models/llamabuild.py ensure
  --python .venv/bin/python` builds the wheel if it is missing and installs it into that
  interpreter's environment if the one there is not this build. Standard library only.
- inside doppel: `doppel init` prints `describe()`, and the tests fail on an AMX build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FLAVORS", "Flavor", "BuildInfo", "choose_flavor", "cpu_flags", "describe",
           "installed_build", "llama_system_info", "wheel_dir", "LLAMA_VERSION"]

LLAMA_VERSION = "0.3.36"
# Written into the target environment after an install: which build it holds.
MARKER = "doppel-llama-build.json"

# Never compiled in, whatever the flavor: AMX crashes (see the module docstring). The options
# default to OFF once GGML_NATIVE is OFF; they are named so a reader and the hash see it.
_NO_AMX = ("-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF")
_COMMON = ("-DGGML_NATIVE=OFF", "-DGGML_CCACHE=OFF") + _NO_AMX


@dataclass(frozen=True)
class Flavor:
    """One build of llama.cpp: the CPU features it needs and the CMake flags that use them."""

    name: str
    # /proc/cpuinfo flag names the build's instructions need; the CPU must have all of them.
    requires: frozenset[str]
    cmake_args: tuple[str, ...]
    machines: tuple[str, ...] = ("x86_64", "amd64")

    @property
    def key(self) -> str:
        """Version, flavor and a hash of the exact flags: a different build is a different key."""
        digest = hashlib.sha256(" ".join((LLAMA_VERSION, *self.cmake_args)).encode())
        return f"{LLAMA_VERSION}-{self.name}-{digest.hexdigest()[:10]}"


_AVX2 = ("-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON", "-DGGML_BMI2=ON",
         "-DGGML_SSE42=ON", "-DGGML_AVX_VNNI=OFF")
_NO_AVX512 = ("-DGGML_AVX512=OFF", "-DGGML_AVX512_VBMI=OFF", "-DGGML_AVX512_VNNI=OFF",
              "-DGGML_AVX512_BF16=OFF")

# Best first: the first flavor whose requirements the CPU meets is built. Each was measured
# in benchmarks/llama_build.py before it earned its place (README, "The llama.cpp build").
FLAVORS: tuple[Flavor, ...] = (
    Flavor("x86-64-avx2",
           frozenset({"avx", "avx2", "fma", "f16c", "bmi2", "sse4_2"}),
           _COMMON + _AVX2 + _NO_AVX512),
    # Any x86-64 CPU: SSE2 only, so an old or odd CPU still runs (slowly) rather than crashing.
    Flavor("x86-64-baseline", frozenset(),
           _COMMON + ("-DGGML_SSE42=OFF", "-DGGML_AVX=OFF", "-DGGML_AVX2=OFF", "-DGGML_FMA=OFF",
                      "-DGGML_F16C=OFF", "-DGGML_BMI2=OFF", "-DGGML_AVX_VNNI=OFF") + _NO_AVX512),
    # ARM and others: llama.cpp's portable default for the target (no -mcpu=native).
    Flavor("generic", frozenset(), _COMMON, machines=()),
)

# The extra flavor measured against x86-64-avx2; not chosen unless measured faster (README).
AVX512 = Flavor("x86-64-avx512",
                frozenset({"avx", "avx2", "fma", "f16c", "bmi2", "sse4_2", "avx512f", "avx512cd",
                           "avx512vl", "avx512dq", "avx512bw", "avx512vbmi", "avx512_vnni"}),
                _COMMON + _AVX2 + ("-DGGML_AVX512=ON", "-DGGML_AVX512_VBMI=ON",
                                   "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_BF16=OFF"))
ALL_FLAVORS: tuple[Flavor, ...] = FLAVORS + (AVX512,)


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags as /proc/cpuinfo names them (empty where unreadable)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def choose_flavor(flags: frozenset[str], machine: str | None = None,
                  override: str | None = None) -> Flavor:
    """The first flavor this CPU can run, or the one `override` names (DOPPEL_LLAMA_FLAVOR)."""
    machine = (machine or platform.machine()).lower()
    if override:
        for flavor in ALL_FLAVORS:
            if flavor.name == override:
                return flavor
        names = ", ".join(f.name for f in ALL_FLAVORS)
        raise ValueError(f"unknown DOPPEL_LLAMA_FLAVOR {override!r} (one of: {names})")
    for flavor in FLAVORS:
        if flavor.machines and machine not in flavor.machines:
            continue
        if flavor.requires <= flags:
            return flavor
    return FLAVORS[-1]


def wheel_dir(wheelhouse: Path, flavor: Flavor) -> Path:
    """Where the wheel of this flavor lives: one folder per build key, nothing else in it."""
    return Path(wheelhouse) / f"llama-cpp-python-{flavor.key}"


def _find_wheel(folder: Path) -> Path | None:
    wheels = sorted(folder.glob("llama_cpp_python-*.whl")) if folder.is_dir() else []
    return wheels[0] if wheels else None


def build_wheel(wheelhouse: Path, flavor: Flavor, python: str) -> Path:
    """Compile llama-cpp-python for `flavor` (minutes) unless its wheel exists; its path."""
    target = wheel_dir(wheelhouse, flavor)
    found = _find_wheel(target)
    if found:
        return found
    wheelhouse.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["CMAKE_ARGS"] = " ".join(flavor.cmake_args)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    # A fixed epoch keeps embedded timestamps out of the build (and llama.cpp reads it too).
    env.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    print(f"doppel: building llama-cpp-python {LLAMA_VERSION} ({flavor.name}); "
          f"this takes several minutes once per machine", flush=True)
    print(f"doppel: CMAKE_ARGS={env['CMAKE_ARGS']}", flush=True)
    # Built into a scratch folder and renamed into place, so an interrupted build leaves no
    # half-written wheel that a later run would install.
    scratch = Path(tempfile.mkdtemp(dir=wheelhouse, prefix=".build-"))
    try:
        subprocess.run(
            [python, "-m", "pip", "wheel", "--no-cache-dir", "--no-deps", "--no-binary",
             "llama-cpp-python", "-w", str(scratch), f"llama-cpp-python=={LLAMA_VERSION}"],
            env=env, check=True)
        if _find_wheel(scratch) is None:
            raise SystemExit("doppel: pip produced no llama-cpp-python wheel")
        (scratch / "flavor.json").write_text(json.dumps(
            {"version": LLAMA_VERSION, "flavor": flavor.name, "key": flavor.key,
             "cmake_args": list(flavor.cmake_args)}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    found = _find_wheel(target)
    assert found is not None
    return found


def _site_packages(python: str) -> Path:
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([python, "-c", purelib],
                         check=True, capture_output=True, text=True)
    return Path(out.stdout.strip())


def ensure(wheelhouse: Path, python: str, flavor: Flavor) -> None:
    """Build the flavor's wheel if needed and make it the llama-cpp-python of `python`."""
    wheel = build_wheel(wheelhouse, flavor, python)
    marker = _site_packages(python) / MARKER
    try:
        current = json.loads(marker.read_text()).get("key")
    except (OSError, ValueError):
        current = None
    if current == flavor.key:
        return
    # Whatever is there (a native build from pip's cache, another flavor) goes first: pip
    # would keep an installed llama-cpp-python of the same version.
    subprocess.run([python, "-m", "pip", "uninstall", "-q", "-y", "llama-cpp-python"],
                   check=False, capture_output=True)
    # --no-deps: its dependencies (numpy, jinja2, diskcache...) are pinned in requirements/.
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-cache-dir", "--no-deps",
                    str(wheel)],
                   check=True)
    marker.write_text(json.dumps({"key": flavor.key, "flavor": flavor.name,
                                  "wheel": wheel.name}, indent=1))
    print(f"doppel: installed llama-cpp-python {flavor.key}", flush=True)


# ---- inside doppel: what the installed build is ---------------------------------------------

@dataclass(frozen=True)
class BuildInfo:
    """What `doppel init` prints and the tests check about the installed llama.cpp."""

    version: str | None
    flavor: str | None
    key: str | None
    features: dict[str, str]

    @property
    def has_amx(self) -> bool:
        return any(name.startswith("AMX") and value not in ("0", "")
                   for name, value in self.features.items())

    def summary(self) -> str:
        on = [name for name, value in self.features.items()
              if value not in ("0", "") and name.isupper() and "_" not in name[:1]]
        flavor = self.flavor or "not built by doppel"
        return (f"llama-cpp-python {self.version or '?'} ({flavor}); CPU features: "
                + (", ".join(on) or "none reported"))


def parse_system_info(text: str) -> dict[str, str]:
    """`AVX = 1 | AVX2 = 1 | CPU : SSE3 = 1 | ...` → {"AVX": "1", "AVX2": "1", "SSE3": "1"}."""
    features: dict[str, str] = {}
    for match in re.finditer(r"([A-Za-z][A-Za-z0-9_]*)\s*=\s*([^|\s]+)", text):
        features[match.group(1)] = match.group(2)
    return features


def llama_system_info() -> str:
    """llama.cpp's own report of what the loaded build uses."""
    import llama_cpp  # noqa: PLC0415 - optional dependency, loaded only when asked

    info = llama_cpp.llama_print_system_info()
    return info.decode() if isinstance(info, bytes) else str(info)


def installed_build() -> BuildInfo:
    """The llama-cpp-python of this environment: version, doppel's flavor marker, features."""
    import importlib.metadata  # noqa: PLC0415
    import sysconfig  # noqa: PLC0415

    try:
        version: str | None = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        version = None
    marker: dict[str, str] = {}
    try:
        marker = json.loads((Path(sysconfig.get_paths()["purelib"]) / MARKER).read_text())
    except (OSError, ValueError):
        pass
    return BuildInfo(version=version, flavor=marker.get("flavor"), key=marker.get("key"),
                     features=parse_system_info(llama_system_info()))


def describe() -> str:
    """One line for `doppel init`."""
    return installed_build().summary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=("ensure", "build", "flavor", "key"))
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter whose environment gets the build")
    parser.add_argument("--wheelhouse", type=Path,
                        default=Path(os.environ.get("DOPPEL_WHEELHOUSE") or
                                     Path.home() / ".cache" / "doppel" / "wheels"))
    parser.add_argument("--flavor", default=os.environ.get("DOPPEL_LLAMA_FLAVOR") or None,
                        help="build this flavor instead of the CPU's best")
    args = parser.parse_args(argv)
    try:
        flavor = choose_flavor(cpu_flags(), override=args.flavor)
    except ValueError as exc:
        print(f"doppel: {exc}", file=sys.stderr)
        return 2
    if args.command == "flavor":
        print(flavor.name)
    elif args.command == "key":
        print(flavor.key)
    elif args.command == "build":
        print(build_wheel(args.wheelhouse, flavor, args.python))
    else:
        ensure(args.wheelhouse, args.python, flavor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
