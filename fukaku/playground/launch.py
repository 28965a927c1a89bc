"""Start ``fukaku playground`` in a child process and wait until it answers: for a notebook, a script that
drives the page, the end-to-end tests and the page benchmark. ``CHROMIUM_FLAGS`` are the flags with which
those drive a headless Chromium on a machine without a screen or a network."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"   # Debian's package
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


@contextmanager
def launched(port: int | None = None, max_sessions: int = 16, timeout: float = 60.0) -> Iterator[str]:
    """Run the playground server (``python -m fukaku playground``) on 127.0.0.1 while the block runs.

    Args:
        port: the port; None (or 0) lets the server pick a free one.
        max_sessions: sessions the server holds at once.
        timeout: seconds to wait for the server to answer ``/api/limits``.

    Yields:
        the page's URL, ``http://127.0.0.1:<port>/``.

    Raises:
        RuntimeError: the server exited, or did not answer within ``timeout``; the message holds its output.

    Example:
        >>> with launched() as url:  # doctest: +SKIP
        ...     webbrowser.open(url)
    """
    proc = subprocess.Popen([sys.executable, "-m", "fukaku", "playground", "--port", str(port or 0),
                             "--max-sessions", str(max_sessions)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # its first line names the URL once the socket listens ("serving on http://127.0.0.1:PORT/ …")
        printed = proc.stdout.readline()
        found = re.search(r"serving on (\S+)", printed)
        if found is None:
            proc.kill()
            raise RuntimeError(f"the playground server did not start: {(printed + proc.communicate()[0]).strip()}")
        url = found.group(1)
        output: list[str] = []   # drained from here on, so that a chatty server never blocks on a full pipe
        threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "api/limits", timeout=2) as response:
                    json.load(response)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    proc.wait()
                    raise RuntimeError(f"the playground server at {url} did not answer: "
                                       f"{''.join(output).strip()}") from None
                time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


__all__ = ["launched", "CHROMIUM", "CHROMIUM_FLAGS"]
