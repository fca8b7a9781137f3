"""What a company is, read from its own words by small statistical models.

Each model is a TF-IDF bag of words and word pairs with a logistic regression, trained at
development time by `scripts/train_text_model.py` on public company profiles labelled with
their sector and industry, which that script maps onto what the model tells by documented
tables: `industry` (the default taxonomy's categories) and `market` (B2B or B2C). They ship as
arrays (`models/<name>.npz`, no pickle: nothing in them runs) and predict with NumPy alone: no
download, no training at run time. The industry model knows the default taxonomy's categories;
a user's own taxonomy is matched to them by its own words (`categories_for`), so that a renamed
or reshuffled taxonomy keeps the model without retraining.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from enrichment_pipelines.core.taxonomy import Taxonomy

MODELS_DIR = Path(__file__).with_name("models")
INDUSTRY = "industry"
MARKET = "market"
# As the vectoriser was trained: lower case, words of two letters or more, stop words out,
# then single words and pairs of neighbours.
_TOKEN = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z]+\b")


@dataclass(frozen=True)
class TextModel:
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # classes x terms
    intercept: np.ndarray
    classes: tuple[str, ...]
    stop_words: frozenset[str]

    def probabilities(self, text: str) -> dict[str, float]:
        """Each category's probability for `text` (a company's description of itself)."""
        words = [word for word in _TOKEN.findall(text.lower()) if word not in self.stop_words]
        terms = Counter([*words, *(" ".join(pair) for pair in pairwise(words))])
        found = [(self.vocabulary[term], count) for term, count in terms.items()
                 if term in self.vocabulary]  # fmt: skip
        logits = self.intercept.astype(np.float64)
        if found:
            index = np.array([term for term, _ in found])
            weights = np.array([1 + math.log(count) for _, count in found]) * self.idf[index]
            weights /= np.linalg.norm(weights)
            logits = logits + self.coef[:, index] @ weights
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (exp / exp.sum()).tolist(), strict=True))


def categories_for(model: TextModel, taxonomy: Taxonomy) -> dict[str, str]:
    """The taxonomy's category for each of the model's classes it can take: the category of
    the same name, else the one whose own words (its subcategories' names, descriptions and
    keywords) the model reads most as that class, provided the model also reads those words
    as that class above all others. A class no category takes is not used: the taxonomy's
    keywords decide there."""
    readings = {
        category: model.probabilities(" ".join(
            word for sub in taxonomy.subcategories_of(category)
            for word in (sub.name, sub.description, *sub.keywords)
        ))
        for category in taxonomy.categories
    }  # fmt: skip
    taken: dict[str, str] = {}
    for name in model.classes:
        if name in readings:
            taken[name] = name
            continue
        closest = max(readings, key=lambda category: readings[category][name])
        if max(readings[closest], key=readings[closest].__getitem__) == name:
            taken[name] = closest
    return taken


def model_path(name: str) -> Path:
    return MODELS_DIR / f"{name}.npz"


@cache
def load_text_model(name: str) -> TextModel:
    """The shipped model of that name (`INDUSTRY`, `MARKET`), read once."""
    with np.load(model_path(name), allow_pickle=False) as arrays:
        terms = arrays["terms"].tolist()
        return TextModel(
            vocabulary={term: index for index, term in enumerate(terms)},
            idf=arrays["idf"].astype(np.float64),
            coef=arrays["coef"].astype(np.float64),
            intercept=arrays["intercept"].astype(np.float64),
            classes=tuple(arrays["classes"].tolist()),
            stop_words=frozenset(arrays["stop_words"].tolist()),
        )
