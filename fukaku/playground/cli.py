"""``fukaku playground [--host 127.0.0.1] [--port 8000] [--open]``: start the playground server."""
from __future__ import annotations

import argparse
import socket
import sys

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``playground`` to the subcommands ``sub`` of ``fukaku``."""
    p = sub.add_parser("playground", help="TensorFlow Playground's exercise as a local web app, trained by fukaku",
                       description="Start the playground server (Starlette on uvicorn) and print its URL. It listens "
                       "on 127.0.0.1 unless --host says otherwise; it writes nothing to disk.",
                       epilog="Needs the playground extra: pip install 'fukaku[playground]'. "
                       "Example: fukaku playground --port 8000 --open")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8000,
                   help="port, 1-65535, or 0 for a free one (the URL printed names it; default: 8000)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.add_argument("--max-sessions", type=int, default=16, metavar="N", help="sessions held at once (default: 16)")
    p.set_defaults(handler=cmd_playground)
    return p


def cmd_playground(args) -> int:
    if not 0 <= args.port <= 65535:
        print(f"fukaku playground: --port must be 1-65535 (or 0: a free one), got {args.port}", file=sys.stderr)
        return 2
    if args.max_sessions < 1:
        print(f"fukaku playground: --max-sessions must be >= 1, got {args.max_sessions}", file=sys.stderr)
        return 2
    try:
        import uvicorn

        from .server import create_app, join_host
    except ImportError as exc:
        print(f"fukaku playground: {exc.name} is missing; install the extra: pip install 'fukaku[playground]'",
              file=sys.stderr)
        return 1
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        print(f"fukaku playground: cannot listen on {args.host} port {args.port}: {exc.strerror or exc}; "
              "choose another --port (0: any free one)", file=sys.stderr)
        return 1
    url = f"http://{join_host(args.host, sock.getsockname()[1])}/"
    print(f"fukaku playground: serving on {url} (Ctrl-C to stop)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    # on this machine only, requests must name it (no DNS rebinding); on another address, any name
    local = args.host in LOOPBACK
    app = create_app(max_sessions=args.max_sessions, allowed_hosts=list(LOOPBACK) if local else None)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    return 0


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host`` (a name, an IPv4 or IPv6 address) and ``port`` (0: a free one), as
    uvicorn would bind it, and listening: connections made once the URL is printed wait for the server."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # uvicorn's backlog
    except OSError:
        sock.close()
        raise
    return sock


__all__ = ["add_parser", "cmd_playground", "listen"]
