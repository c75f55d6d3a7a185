"""The ``xner`` command line: one sub-command per step of the pipeline."""

from . import crosslingual_commands as crosslingual  # noqa: F401  (register their sub-commands on the app)
from . import distill_commands as multisource
from . import encoder_commands as encoder
from . import languages_table_command as languages
from . import package_commands as package
from .app import app, main

__all__ = ["app", "main"]
