"""The distillation tests' tiny teachers and toy data (fixtures in tests/distill_toys.py)."""

from distill_toys import *  # noqa: F403  (pytest collects the fixtures by name)
