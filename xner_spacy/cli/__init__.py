"""The ``xner`` command line: one sub-command per step of the pipeline."""

from . import crosslingual, encoder, languages, multisource, package  # noqa: F401  (register their sub-commands on the app)
from .app import app, main

__all__ = ["app", "main"]
