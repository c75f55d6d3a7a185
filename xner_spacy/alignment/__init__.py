"""Word alignment between source and target sentences.

Light on purpose: the aligner back-ends (eflomal, systran-align) are imported only when an
aligner runs, so importing this package costs nothing.
"""

from .statistical_aligners import EflomalAligner, FastAlignAligner
from .symmetrize import METHODS, symmetrize

__all__ = ["METHODS", "EflomalAligner", "FastAlignAligner", "symmetrize"]
