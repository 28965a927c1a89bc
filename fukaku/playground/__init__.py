"""``fukaku playground``: TensorFlow Playground's exercise (seed 003) as a local web app whose training
runs in fukaku. This package is the server side: the validated parameters (:mod:`.config`), the
network (:mod:`.network`), a training session with its heat-maps (:mod:`.session`), the exports
(:mod:`.export`) and the Starlette app (:mod:`.server`, imported on demand: it needs the
``playground`` extra, ``pip install 'fukaku[playground]'``).
"""
from .config import ConfigError, PlaygroundConfig, limits
from .network import PlaygroundNet
from .session import Session

__all__ = ["PlaygroundConfig", "ConfigError", "limits", "PlaygroundNet", "Session"]
