"""A company's industry category read from its own words by a small statistical model.

The model is a TF-IDF bag of words and word pairs with a multinomial logistic regression,
trained at development time by `scripts/train_industry_model.py` on about 42,000 public
company profiles labelled with their sector and industry, mapped onto the default taxonomy's
categories by a documented table (see that script). It ships as arrays (`industry.npz`, no
pickle: nothing in it runs) and predicts with NumPy alone: no download, no training at run
time. It knows the default taxonomy's categories; a user's own taxonomy is matched to them by
its own words (`categories_for`), so that a renamed or reshuffled taxonomy keeps the model
without retraining.
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

MODEL_PATH = Path(__file__).with_name("models") / "industry.npz"
# As the vectoriser was trained: lower case, words of two letters or more, stop words out,
# then single words and pairs of neighbours.
_TOKEN = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z]+\b")


@dataclass(frozen=True)
class IndustryModel:
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


def categories_for(model: IndustryModel, taxonomy: Taxonomy) -> dict[str, str]:
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


@cache
def load_industry_model(path: Path = MODEL_PATH) -> IndustryModel:
    """The shipped model, read once."""
    with np.load(path, allow_pickle=False) as arrays:
        terms = arrays["terms"].tolist()
        return IndustryModel(
            vocabulary={term: index for index, term in enumerate(terms)},
            idf=arrays["idf"].astype(np.float64),
            coef=arrays["coef"].astype(np.float64),
            intercept=arrays["intercept"].astype(np.float64),
            classes=tuple(arrays["classes"].tolist()),
            stop_words=frozenset(arrays["stop_words"].tolist()),
        )
