"""``fukaku playground [--host 127.0.0.1] [--port 8000] [--open]``: start the playground server."""
from __future__ import annotations

import argparse
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
    p.add_argument("--port", type=int, default=8000, help="port, 1-65535 (default: 8000)")
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.add_argument("--max-sessions", type=int, default=16, metavar="N", help="sessions held at once (default: 16)")
    p.set_defaults(handler=cmd_playground)
    return p


def cmd_playground(args) -> int:
    if not 1 <= args.port <= 65535:
        print(f"fukaku playground: --port must be 1-65535, got {args.port}", file=sys.stderr)
        return 2
    if args.max_sessions < 1:
        print(f"fukaku playground: --max-sessions must be >= 1, got {args.max_sessions}", file=sys.stderr)
        return 2
    try:
        import uvicorn

        from .server import create_app
    except ImportError as exc:
        print(f"fukaku playground: {exc.name} is missing; install the extra: pip install 'fukaku[playground]'",
              file=sys.stderr)
        return 1
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}/"
    print(f"fukaku playground: serving on {url} (Ctrl-C to stop)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    # on this machine only, requests must name it (no DNS rebinding); on another address, any name
    local = args.host in LOOPBACK
    app = create_app(max_sessions=args.max_sessions, allowed_hosts=list(LOOPBACK) if local else None)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


__all__ = ["add_parser", "cmd_playground"]
