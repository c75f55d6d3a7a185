"""The ``xner`` command line: one sub-command per step of the pipeline."""

from . import multisource  # noqa: F401  (registers its sub-commands on the app)
from .app import app, main

__all__ = ["app", "main"]
