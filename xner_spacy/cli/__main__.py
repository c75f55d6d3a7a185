"""``python -m xner_spacy.cli``: the ``xner`` command without its console script."""

from . import main

main()
