"""The ``xner`` command line: one sub-command per step of the pipeline."""

from .app import app, main

__all__ = ["app", "main"]
