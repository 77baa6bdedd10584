"""Zip archives (an Instagram or X export, a folder zipped by hand) opened safely, all or nothing.

An archive is checked whole before any entry is returned: a damaged or encrypted zip, too many
entries, too many bytes once expanded, or one entry compressed suspiciously well (a zip bomb)
refuses the whole archive with one reason, so an import never stops half-way through it.
While the entries are read their real bytes are counted too, since the sizes a zip declares
can lie.

Entries are never written to disk; their names are only labels, normalised anyway ('../' and
absolute paths lose their prefix). Each entry's source name is '<zip name>/<path inside>', so
importing the same zip again finds every entry unchanged. The noise of an export (photos and
videos, __MACOSX/, .DS_Store) is not read and is reported as skipped, with the reason; the size
limit counts only the entries that are read, so an Instagram export with gigabytes of photos
still imports its few megabytes of JSON. Entry count, encryption and compression ratio are
checked on every entry.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from doppel.config import Settings
from doppel.errors import IngestError

__all__ = ["Expanded", "expand", "is_archive", "MEDIA_SUFFIXES"]

MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".bmp", ".tif",
                  ".tiff", ".mp4", ".mov", ".m4v", ".avi", ".webm", ".mkv", ".3gp", ".mp3",
                  ".m4a", ".aac", ".wav", ".ogg", ".opus")
_SYSTEM_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
# The compression-ratio check applies from this size up: a small file of repeated characters
# compresses far beyond any ratio and can do no harm, while a bomb needs volume.
_RATIO_FLOOR = 1024 * 1024
_READ_BLOCK = 1024 * 1024


class Expanded(NamedTuple):
    """What an archive holds: entries to import as (source, bytes), and (source, reason) for
    the entries left out."""

    files: list[tuple[str, bytes]]
    skipped: list[tuple[str, str]]


def is_archive(name: str) -> bool:
    return name.lower().endswith(".zip")


def expand(name: str, data: bytes | Path, settings: Settings) -> Expanded:
    """The entries of the zip `data` (its bytes or its path), named '<name>/<path inside>'.

    Raises IngestError, and returns nothing, when the archive as a whole cannot be trusted.
    Nested archives are not expanded (reported as skipped): each level would need its own
    limits, and no export format nests them; the owner can unzip and import the inner one.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
        raise IngestError("not a readable zip file") from None
    try:
        with zf:
            return _expand(name.rstrip("/"), zf, settings)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            ValueError, NotImplementedError, RuntimeError) as exc:
        # Damaged entries (a bad CRC, a truncated stream); NotImplementedError: a compression
        # method Python cannot read; RuntimeError: zipfile's 'password required'.
        raise IngestError(f"not a readable zip file ({_why(exc)})") from None


def _expand(name: str, zf: zipfile.ZipFile, settings: Settings) -> Expanded:
    infos = zf.infolist()
    if len(infos) > settings.max_archive_files:
        raise IngestError(f"too many entries in the zip ({len(infos)}; the limit is "
                          f"{settings.max_archive_files}, DOPPEL_MAX_ARCHIVE_FILES)")
    if any(info.flag_bits & 0x1 for info in infos):
        raise IngestError("encrypted zip: password-protected entries cannot be read")
    for info in infos:
        if info.file_size >= _RATIO_FLOOR and \
                info.file_size > settings.max_archive_ratio * max(info.compress_size, 1):
            raise IngestError(f"{_clean_name(info.filename) or 'an entry'} is compressed "
                              f"over {settings.max_archive_ratio}:1 (a zip bomb?), "
                              "DOPPEL_MAX_ARCHIVE_RATIO")

    plan: list[tuple[str, zipfile.ZipInfo]] = []  # the entries to read, in archive order
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for info in infos:
        if info.is_dir():
            continue
        path = _clean_name(info.filename)
        source = f"{name}/{path}"
        reason = _noise(path) if path else "no usable name"
        if reason is None and path.lower() in seen:
            reason = "duplicate name in the zip"
        elif reason is None and info.file_size > settings.max_file_bytes:
            reason = (f"too large ({_mb(info.file_size)}; the limit is "
                      f"{_mb(settings.max_file_bytes)}, DOPPEL_MAX_FILE_BYTES)")
        if reason:
            skipped.append((source if path else f"{name}/{info.filename}", reason))
            continue
        seen.add(path.lower())
        plan.append((source, info))

    declared = sum(info.file_size for _, info in plan)
    if declared > settings.max_archive_bytes:
        raise IngestError(f"the zip expands to {_mb(declared)}; the limit is "
                          f"{_mb(settings.max_archive_bytes)}, DOPPEL_MAX_ARCHIVE_BYTES")
    files: list[tuple[str, bytes]] = []
    total = 0
    for source, info in plan:
        content = _read(zf, info, settings.max_archive_bytes - total)
        total += len(content)
        files.append((source, content))
    return Expanded(files, skipped)


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """One entry's bytes, refused past its declared size or the archive's remaining budget."""
    parts: list[bytes] = []
    size = 0
    with zf.open(info) as f:
        while block := f.read(_READ_BLOCK):
            size += len(block)
            if size > info.file_size or size > budget:
                raise IngestError(f"{_clean_name(info.filename)} expands beyond its declared "
                                  "size (a zip bomb?)")
            parts.append(block)
    return b"".join(parts)


def _clean_name(raw: str) -> str:
    """A relative POSIX path: backslashes, drive letters, '.', '..' and leading '/' removed."""
    parts = raw.replace("\\", "/").split("/")
    if parts and len(parts[0]) == 2 and parts[0][1] == ":":
        parts = parts[1:]  # 'C:'
    kept = [p for p in parts if p not in ("", ".", "..") and p.isprintable()]
    return "/".join(kept)


def _noise(path: str) -> str | None:
    """Why an entry is not worth reading, or None."""
    parts = PurePosixPath(path).parts
    base = parts[-1].lower()
    if "__MACOSX" in parts or base.startswith("._") or base in _SYSTEM_NAMES:
        return "system file"
    if base.startswith("."):
        return "hidden file"
    if base.endswith(MEDIA_SUFFIXES):
        return "media file"
    if is_archive(base):
        return "nested zip (not expanded: unzip it and import what it holds)"
    return None


def _why(exc: BaseException) -> str:
    text = str(exc).split("\n")[0][:120]
    return text or type(exc).__name__


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"
