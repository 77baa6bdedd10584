"""A real Redis server for tests and benchmarks: Debian's `redis-server` (`make test` installs
it as it installs chromium), on a Unix socket in a temporary folder, no TCP port, no disk.

    with RedisServer.start() as server:
        url = server.url          # redis+unix:///tmp/.../redis.sock
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisServer", "RedisUnavailable"]


class RedisUnavailable(RuntimeError):
    pass


class RedisServer:
    def __init__(self, base: Path, process: subprocess.Popen[bytes]) -> None:
        self.base = base
        self.process = process

    @property
    def socket(self) -> Path:
        return self.base / "redis.sock"

    @property
    def url(self) -> str:
        return f"redis+unix://{self.socket}"

    @classmethod
    def start(cls, *, timeout_s: float = 20.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("redis-server is not installed (apt-get install redis-server;"
                                   " `make test` does)")
        base = Path(tempfile.mkdtemp(prefix="drd", dir="/tmp"))
        process = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(base / "redis.sock"),
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
             "--dir", str(base), "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = cls(base, process)
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                server.stop()
                raise RedisUnavailable(f"redis-server exited: {err[-300:]}")
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(str(server.socket))
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return server
            except OSError:
                pass
            if time.monotonic() > deadline:
                server.stop()
                raise RedisUnavailable("redis-server did not answer")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
