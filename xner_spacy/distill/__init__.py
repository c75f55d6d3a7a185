"""Teacher–student distillation for spaCy 3.8: a student NER that learns soft targets.

* :mod:`.tags` — BILUO/BIO tag sets, their grammar, mapping distributions between tag sets.
* :mod:`.viterbi` — constrained Viterbi decoding (never an invalid tag sequence).
* :mod:`.model` — ``xner.SoftNERTagger.v1``: tok2vec → softmax over tags.
* :mod:`.student` — the ``xner_student_ner`` component (soft or hard targets).
* :mod:`.teachers` — ``xner.Teacher.v1``: student pipelines, spaCy ``ner``, HF classifiers.
* :mod:`.weights` — uniform, fixed or similarity-based weights for several teachers.
* :mod:`.corpus` — ``xner.TeacherCorpus.v1``: unlabelled text → soft-target Examples.

The registered names are bound in :mod:`xner_spacy.registry`.
"""

from .tag_sets import TagSet, convert_distribution
from .viterbi import constrained_viterbi

__all__ = ["TagSet", "constrained_viterbi", "convert_distribution"]
