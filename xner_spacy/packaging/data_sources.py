"""Where a packaged pipeline's data and encoder come from: names, sources and licences.

A model card's Sources list comes from here: each dataset of ``../shared/data`` and each
encoder the project knows is matched by its path or name (:func:`identify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_CONLL03 = "https://www.clips.uantwerpen.be/conll2003/ner/"
_CONLL02 = "https://www.clips.uantwerpen.be/conll2002/ner/"


@dataclass(frozen=True)
class Source:
    """A dataset or model a package was made from, as spaCy's meta ``sources`` lists them."""

    name: str
    url: str
    license: str
    author: str = ""

    def entry(self, role: str, detail: str = "") -> dict[str, str]:
        name = f"{self.name} ({detail})" if detail else self.name
        entry = {"name": name, "url": self.url, "license": self.license, "role": role}
        if self.author:
            entry["author"] = self.author
        return entry


_MASAKHANE_NER = "https://github.com/masakhane-io/masakhane-ner"


_RESEARCH = "research use only, under the original corpus's terms"


# Datasets of the data mirror (the README's "Data and licences"), by folder; more specific first.
DATASETS: list[tuple[tuple[str, ...], Source]] = [
    (
        ("masakhaner2",),
        Source(
            "MasakhaNER 2.0",
            _MASAKHANE_NER,
            "CC BY-NC 4.0",
            "Adelani et al., EMNLP 2022",
        ),
    ),
    (
        ("mafand",),
        Source(
            "MAFAND-MT",
            "https://github.com/masakhane-io/lafand-mt",
            "CC BY-NC 4.0",
            "Adelani et al., NAACL 2022",
        ),
    ),
    (
        ("source_ner", "en"),
        Source(
            "CoNLL-2003 English (Reuters news; PER/ORG/LOC)",
            _CONLL03,
            "Reuters Corpus (RCV1) licence: research use only",
            "Tjong Kim Sang & De Meulder, CoNLL 2003",
        ),
    ),
    (
        ("source_ner", "de"),
        Source(
            "CoNLL-2003 German (Frankfurter Rundschau; PER/ORG/LOC)",
            _CONLL03,
            _RESEARCH,
            "Tjong Kim Sang & De Meulder, CoNLL 2003",
        ),
    ),
    (
        ("source_ner", "es"),
        Source(
            "CoNLL-2002 Spanish (EFE news; PER/ORG/LOC)",
            _CONLL02,
            _RESEARCH,
            "Tjong Kim Sang, CoNLL 2002",
        ),
    ),
    (
        ("source_ner", "nl"),
        Source(
            "CoNLL-2002 Dutch (De Morgen; PER/ORG/LOC)",
            _CONLL02,
            _RESEARCH,
            "Tjong Kim Sang, CoNLL 2002",
        ),
    ),
    (
        ("source_ner", "fr"),
        Source(
            "French NER of the MasakhaNER 2.0 transfer corpus (PER/ORG/LOC)",
            _MASAKHANE_NER,
            _RESEARCH,
        ),
    ),
    (
        ("conll2003_en",),
        Source(
            "CoNLL-2003 English",
            _CONLL03,
            "Reuters Corpus (RCV1) licence: research use only",
            "Tjong Kim Sang & De Meulder, CoNLL 2003",
        ),
    ),
    (
        ("conll_4types", "de"),
        Source("CoNLL-2003 German", _CONLL03, _RESEARCH, "Tjong Kim Sang & De Meulder, CoNLL 2003"),
    ),
    (
        ("conll_4types",),
        Source("CoNLL-2002", _CONLL02, _RESEARCH, "Tjong Kim Sang, CoNLL 2002"),
    ),
    (
        ("ntrex128",),
        Source(
            "NTREX-128",
            "https://github.com/MicrosoftTranslator/NTREX",
            "CC BY-SA 4.0",
            "Federmann, Kocmi & Xin, SUMEval 2022",
        ),
    ),
    (
        ("europarl_ner",),
        Source(
            "Europarl-NER",
            "https://github.com/ixa-ehu/ner-evaluation-corpus-europarl",
            "Europarl terms (no known copyright restrictions)",
            "Agerri et al., LREC 2018",
        ),
    ),
    (
        ("wikiann",),
        Source(
            "WikiANN",
            "https://github.com/afshinrahimi/mmner",
            "ODC-BY",
            "Pan et al., ACL 2017; Rahimi et al., ACL 2019",
        ),
    ),
    (
        ("germeval2014",),
        Source(
            "GermEval 2014",
            "https://sites.google.com/site/germeval2014ner/",
            "CC BY 4.0",
            "Benikova et al., LREC 2014",
        ),
    ),
]


# Pretrained encoders a config may name (Hugging Face ids), with their licences.
ENCODERS: dict[str, Source] = {
    name: Source(name, f"https://huggingface.co/{name}", licence)
    for name, licence in {
        "xlm-roberta-base": "MIT",
        "xlm-roberta-large": "MIT",
        "FacebookAI/xlm-roberta-base": "MIT",
        "FacebookAI/xlm-roberta-large": "MIT",
        "bert-base-multilingual-cased": "Apache-2.0",
        "google-bert/bert-base-multilingual-cased": "Apache-2.0",
        "intfloat/multilingual-e5-small": "MIT",
        "Davlan/afro-xlmr-base": "MIT",
    }.items()
}


LIMITS = [
    "Trained only on *silver* labels: entities a source-language model found, projected "
    "through a word alignment. Source-model errors, alignment errors and names the source "
    "model does not know carry over.",
    "Labels PER, ORG and LOC only (no DATE or MISC), in the domain of the parallel corpus "
    "(news); expect lower scores on other domains.",
    "The gold test score above is the one measure of accuracy; the silver dev score measures "
    "agreement with projected labels, not correctness.",
    "Text is NFC-normalised by the tokenizer; the package needs `xner-spacy` installed.",
]


def identify(spec: str | Path) -> tuple[Source, str] | None:
    """The dataset a path of the data mirror belongs to, with its detail (``yor/test``)."""
    parts = [p for p in Path(spec).parts if p not in ("", ".", "..", "/")]
    for keys, source in DATASETS:
        for i in range(len(parts) - len(keys) + 1):
            if tuple(parts[i : i + len(keys)]) == keys:
                rest = [Path(p).stem if j == len(parts) - 1 else p for j, p in enumerate(parts)]
                return source, "/".join(rest[i + len(keys) :])
    return None
