"""The ``xner`` command line: one sub-command per step, in one module per step group."""

# Importing the command modules registers their sub-commands on the app.
from . import (  # noqa: F401
    comparison_commands,
    crosslingual_commands,
    distill_commands,
    encoder_commands,
    evaluation_commands,
    labeller_study_command,
    languages_table_command,
    package_commands,
    projection_eval_commands,
    provenance_commands,
    silver_commands,
    translation_commands,
)
from .app import app, main

__all__ = ["app", "main"]
