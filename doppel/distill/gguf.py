"""Export: a peft LoRA adapter converted to a GGUF LoRA that llama.cpp applies to the shared base.

llama-cpp-python's wheel carries no converter scripts; its source package does
(`vendor/llama.cpp/convert_lora_to_gguf.py`). `prepare_converter` fetches that source package
once with pip (registries are reachable at set-up, MODELS.md) and keeps only what the two
converters import, about 2 MB, under `<models>/llama.cpp-tools/`:

    convert_lora_to_gguf.py   peft adapter -> GGUF LoRA
    convert_hf_to_gguf.py     merged HF checkpoint -> GGUF model
    conversion/               model classes both scripts share (tensor names, q/k permutes)
    gguf-py/gguf/             the gguf writer of the same llama.cpp revision
    VERSION                   the llama-cpp-python version the files came from

The converter matches the llama.cpp revision that loads its output, which is why it comes from
the installed version's own source package and is fetched again when that version changes.
Converting runs in a subprocess with `--base` always set (without it the script asks the model
hub for the base config) and the hub switched off in its environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Literal

from doppel.config import Settings
from doppel.errors import ConfigError, DoppelError

__all__ = ["ConversionError", "TOOLS_DIR", "converter_dir", "prepare_converter", "to_gguf_lora"]

TOOLS_DIR = "llama.cpp-tools"
LORA_SCRIPT = "convert_lora_to_gguf.py"
HF_SCRIPT = "convert_hf_to_gguf.py"
# Paths kept from the source package's vendor/llama.cpp/: the scripts and what they import.
_KEEP_FILES = (LORA_SCRIPT, HF_SCRIPT)
_KEEP_DIRS = ("conversion/", "gguf-py/gguf/")
_VENDOR = PurePosixPath("vendor/llama.cpp")


class ConversionError(DoppelError):
    """An adapter could not be converted; the message ends with the converter's own reason."""


def _installed_version() -> str:
    try:
        return version("llama-cpp-python")
    except PackageNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("llama-cpp-python is not installed (run `make`)") from exc


def _is_complete(folder: Path, wanted_version: str) -> bool:
    marker = folder / "VERSION"
    return (folder / LORA_SCRIPT).is_file() and (folder / "gguf-py" / "gguf").is_dir() \
        and marker.is_file() and marker.read_text().strip() == wanted_version


def converter_dir(settings: Settings, *, sdist: Path | None = None) -> Path:
    """The folder holding convert_lora_to_gguf.py for the installed llama-cpp-python.

    Fetched once (pip download of the source package, ~75 MB, about a minute) when missing or
    from another version; `sdist` names an already downloaded source package instead."""
    wanted = _installed_version()
    target = settings.models_dir / TOOLS_DIR
    if _is_complete(target, wanted):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place: an interrupted fetch leaves nothing that
    # `_is_complete` would accept, and two processes preparing at once both end up valid.
    work = Path(tempfile.mkdtemp(prefix=".llama.cpp-tools-", dir=target.parent))
    try:
        if sdist is None:
            sdist = _download_sdist(wanted, work / "download")
        _extract(sdist, work / "tools")
        (work / "tools" / "VERSION").write_text(wanted + "\n")
        if target.exists():
            stale = target.with_name(f".{TOOLS_DIR}-stale-{os.getpid()}")
            target.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            (work / "tools").rename(target)
        except OSError:
            if not _is_complete(target, wanted):  # another process won only if it finished
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def prepare_converter(settings: Settings) -> Path:
    """Set-up hook (`doppel init`, `make`): make the converter available; fast when done."""
    return converter_dir(settings)


def _download_sdist(wanted: str, dest: Path) -> Path:
    dest.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", "--quiet", f"llama-cpp-python=={wanted}",
           "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob("llama_cpp_python-*.tar.gz"))
    if proc.returncode != 0 or not found:
        raise ConfigError(f"cannot fetch llama-cpp-python {wanted}'s source package for the "
                          f"GGUF converter: {_last_line(proc.stderr) or proc.returncode}")
    return found[0]


def _extract(sdist: Path, dest: Path) -> None:
    """Copy only the kept paths out of the source tarball (plain files, no links)."""
    dest.mkdir(parents=True)
    n = 0
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if len(parts) < 4 or not member.isfile():
                continue
            inner = PurePosixPath(*parts[1:])  # drop the "llama_cpp_python-X.Y.Z/" prefix
            try:
                rel = inner.relative_to(_VENDOR)
            except ValueError:
                continue
            text = rel.as_posix()
            if ".." in rel.parts or not (text in _KEEP_FILES or (
                    text.startswith(_KEEP_DIRS) and text.endswith(".py"))):
                continue
            source = tar.extractfile(member)
            if source is None:
                continue
            out = dest.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            with source, open(out, "wb") as sink:
                shutil.copyfileobj(source, sink)
            n += 1
    if not (dest / LORA_SCRIPT).is_file() or n < 10:
        raise ConfigError(f"{sdist.name} does not hold llama.cpp's converter scripts")


def to_gguf_lora(adapter_dir: Path, base_dir: Path, out_path: Path, *, converter: Path,
                 outtype: Literal["f16", "f32"] = "f16", timeout_s: float = 600.0) -> Path:
    """Convert a peft adapter folder (adapter_config.json + adapter_model.safetensors) to one
    GGUF LoRA file at `out_path`, written atomically. `base_dir` is the dense HF checkpoint the
    adapter was trained on (its config.json is what the converter reads); `converter` is
    `converter_dir(settings)`."""
    # Absolute: the converter runs with its own folder as working directory.
    adapter_dir, base_dir = Path(adapter_dir).resolve(), Path(base_dir).resolve()
    out_path, converter = Path(out_path).resolve(), Path(converter).resolve()
    if not (adapter_dir / "adapter_config.json").is_file():
        raise ConversionError(f"{adapter_dir} is not a peft adapter (no adapter_config.json)")
    if not (base_dir / "config.json").is_file():
        raise ConversionError(f"{base_dir} is not a Hugging Face checkpoint (no config.json)")
    script = converter / LORA_SCRIPT
    if not script.is_file():
        raise ConfigError(f"the GGUF converter is missing: {script} (run `doppel init`)")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    cmd = [sys.executable, str(script), str(adapter_dir), "--base", str(base_dir),
           "--outfile", str(tmp), "--outtype", outtype]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env(),
                              cwd=str(converter), timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        tmp.unlink(missing_ok=True)
        raise ConversionError(f"converting {adapter_dir.name} took over {timeout_s:.0f} s") \
            from exc
    if proc.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise ConversionError(f"converting {adapter_dir.name} to GGUF failed: "
                              f"{_last_line(proc.stderr) or f'exit code {proc.returncode}'}")
    tmp.replace(out_path)
    return out_path


def _clean_env() -> dict[str, str]:
    """The converter's environment: no hub, no stray Python path, the vendored gguf package."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "OMP_NUM_THREADS")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1",
               PYTHONNOUSERSITE="1", PYTHONUNBUFFERED="1")
    return env


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
