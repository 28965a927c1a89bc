"""``python -m fukaku ...`` is the ``fukaku`` command (:func:`fukaku.cli.main`)."""
from .cli import main

raise SystemExit(main())
