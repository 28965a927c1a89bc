"""Start ``fukaku playground`` in a child process and wait until it answers: for a notebook, a script that
drives the page, the end-to-end tests and the page benchmark. ``CHROMIUM_FLAGS`` are the flags with which
those drive a headless Chromium on a machine without a screen or a network."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"   # Debian's package
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def launched(port: int | None = None, max_sessions: int = 16, timeout: float = 60.0) -> Iterator[str]:
    """Run the playground server (``python -m fukaku playground``) on 127.0.0.1 while the block runs.

    Args:
        port: the port; None picks a free one.
        max_sessions: sessions the server holds at once.
        timeout: seconds to wait for the server to answer ``/api/limits``.

    Yields:
        the page's URL, ``http://127.0.0.1:<port>/``.

    Raises:
        RuntimeError: the server exited or did not answer within ``timeout``; the message holds its output.

    Example:
        >>> with launched() as url:  # doctest: +SKIP
        ...     webbrowser.open(url)
    """
    port = free_port() if port is None else port
    proc = subprocess.Popen([sys.executable, "-m", "fukaku", "playground", "--port", str(port),
                             "--max-sessions", str(max_sessions)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "api/limits", timeout=2) as response:
                    json.load(response)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError(f"the playground server did not start on port {port}: "
                                       f"{proc.communicate()[0].strip()}") from None
                time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if proc.stdout:
            proc.stdout.close()


__all__ = ["launched", "free_port", "CHROMIUM", "CHROMIUM_FLAGS"]
