"""``python -m fukaku.lab ...`` is ``fukaku lab ...``."""
from .cli import cli_main

raise SystemExit(cli_main())
