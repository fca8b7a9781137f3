"""Train a model shipped in enrichment_pipelines/core/extractors/models/<name>.npz.

Data: FinanceDatabase (https://github.com/JerBouma/FinanceDatabase, MIT licence, "MIT License,
Copyright (c) 2023 Jeroen Bouma"), its `database/equities/*.csv`: public companies' profile
summaries (about 70 words each, an aggregation of public sources) with a sector, an industry
group and an industry loosely following GICS. Only the trained weights are shipped, none of the
text. Each row's label is read from its group and industry by tables written from the default
taxonomy's descriptions and the companies sets' labelling rules (tests/fixtures/blind/
README.md, "Classification labels") before any training; rows whose group or industry says
nothing decisive are left out. Companies of the blind and development companies sets are left
out by name, so that no evaluation company was seen in training. The models:

- `industry`: the default taxonomy's category (`CATEGORY_OF_GROUP`, `CATEGORY_OF_INDUSTRY`).
- `market`: B2B or B2C (`MARKET_OF_INDUSTRY`): what such businesses mainly sell to, by the
  labelling rules (branded consumer goods, retail, restaurants, hotels, cars, consumer lending:
  B2C; materials, machinery, components, chips, software, business services: B2B). Industries
  that sell to both alike (banks, insurers, telecoms, utilities, drug makers, media) are left
  out: the model learns the words of each side, and a text between them stays in between.

Model: TF-IDF over words and word pairs (sublinear tf, English stop words, terms in at least
three summaries, at most 40,000) and a class-balanced logistic regression, its strength chosen
by 3-fold cross-validation on the training rows alone. The arrays are checked against
scikit-learn's own probabilities before they are written.

A retrained model changes what the offline extractor finds: bump `RULES_VERSION` in
core/extractors/rules.py with it, so that stored extractions are not reused.

Usage (scikit-learn is needed here only, not at run time):
    .venv/bin/pip install scikit-learn
    .venv/bin/python scripts/train_text_model.py {industry,market} <folder of equities CSVs>
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

# The project root on the import path, for tests.support (the evaluation sets' names).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from enrichment_pipelines.core.extractors.text_models import (
    INDUSTRY,
    MARKET,
    load_text_model,
    model_path,
)
from enrichment_pipelines.core.taxonomy import load_taxonomy
from tests.support.blind import company_name_key, load_blind_companies
from tests.support.labelled import load_development_companies

CATEGORY_OF_GROUP = {
    "Automobiles & Components": "Manufacturing & Industrial",
    "Banks": "Financial Services",
    "Capital Goods": "Manufacturing & Industrial",
    "Commercial & Professional Services": "Professional Services",
    # makers of consumer products sold through retail: the taxonomy's "Consumer Goods"
    "Consumer Durables & Apparel": "E-commerce & Retail",
    "Diversified Financials": "Financial Services",
    "Energy": "Energy & Utilities",
    "Food & Staples Retailing": "E-commerce & Retail",
    "Food, Beverage & Tobacco": "Food & Agriculture",
    "Health Care Equipment & Services": "Healthcare & Life Sciences",
    "Household & Personal Products": "E-commerce & Retail",
    "Insurance": "Financial Services",
    "Materials": "Manufacturing & Industrial",
    "Media & Entertainment": "Media & Entertainment",
    "Pharmaceuticals, Biotechnology & Life Sciences": "Healthcare & Life Sciences",
    "Real Estate": "Real Estate & Construction",
    "Retailing": "E-commerce & Retail",
    # a chip or hardware maker makes things
    "Semiconductors & Semiconductor Equipment": "Manufacturing & Industrial",
    "Technology Hardware & Equipment": "Manufacturing & Industrial",
    "Software & Services": "Software & IT",
    # the taxonomy has no telecoms category; networks are IT infrastructure
    "Telecommunication Services": "Software & IT",
    "Transportation": "Transportation & Logistics",
    "Utilities": "Energy & Utilities",
}
# Where the industry decides against its group; None: the row says nothing decisive.
CATEGORY_OF_INDUSTRY: dict[str, str | None] = {
    "Construction & Engineering": "Real Estate & Construction",
    "Hotels, Restaurants & Leisure": "Travel & Hospitality",
    "Diversified Consumer Services": "Education",
    "Metals & Mining": "Energy & Utilities",  # "an oil, gas, power or mining company"
    "Distributors": None,  # the goods they handle decide, and the row does not say which
}
GROUPS_NEEDING_AN_INDUSTRY = {"Consumer Services"}
# What each industry's companies mainly sell to; an industry not named sells to both alike, or
# the rules leave its companies unlabelled (drug developers), and is left out.
_B2C_INDUSTRIES = (
    "Airlines", "Automobiles", "Beverages", "Consumer Finance", "Diversified Consumer Services",
    "Entertainment", "Food & Staples Retailing", "Food Products", "Hotels, Restaurants & Leisure",
    "Household Durables", "Household Products", "Internet & Direct Marketing Retail",
    "Specialty Retail", "Textiles, Apparel & Luxury Goods", "Tobacco",
)  # fmt: skip
_B2B_INDUSTRIES = (
    "Aerospace & Defense", "Air Freight & Logistics", "Auto Components", "Building Products",
    "Chemicals", "Commercial Services & Supplies", "Communications Equipment",
    "Construction & Engineering", "Construction Materials", "Distributors",
    "Electrical Equipment", "Electronic Equipment, Instruments & Components",
    "Energy Equipment & Services", "Health Care Equipment & Supplies", "Health Care Technology",
    "IT Services", "Industrial Conglomerates", "Machinery", "Marine", "Metals & Mining",
    "Oil, Gas & Consumable Fuels", "Paper & Forest Products", "Professional Services",
    "Semiconductors & Semiconductor Equipment", "Software", "Trading Companies & Distributors",
    "Transportation Infrastructure",
)  # fmt: skip
MARKET_OF_INDUSTRY = {
    **dict.fromkeys(_B2C_INDUSTRIES, "B2C"),
    **dict.fromkeys(_B2B_INDUSTRIES, "B2B"),
}
MAX_TERMS = 40_000


def category_of(group: str, industry: str) -> str | None:
    if industry in CATEGORY_OF_INDUSTRY:
        return CATEGORY_OF_INDUSTRY[industry]
    if group in GROUPS_NEEDING_AN_INDUSTRY:
        return None
    return CATEGORY_OF_GROUP.get(group)


def market_of(group: str, industry: str) -> str | None:
    return MARKET_OF_INDUSTRY.get(industry)


LABEL_OF = {INDUSTRY: category_of, MARKET: market_of}
LABELS_OF = {INDUSTRY: lambda: set(load_taxonomy().categories), MARKET: lambda: {"B2B", "B2C"}}


def read_rows(
    folder: Path, label_of: Callable[[str, str], str | None]
) -> tuple[list[str], list[str]]:
    """(summaries, labels) of the usable rows, each summary once, evaluation companies left
    out."""
    held_out = {company_name_key(company.name) for company in load_blind_companies()}
    held_out |= {company_name_key(company.name) for company in load_development_companies()}
    texts: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            for row in csv.DictReader(handle):
                summary = (row.get("summary") or "").strip()
                label = label_of(row.get("industry_group") or "", row.get("industry") or "")
                if not summary or summary in seen or label is None:
                    continue
                if company_name_key(row.get("name") or "") in held_out:
                    continue
                seen.add(summary)
                texts.append(summary)
                labels.append(label)
    return texts, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(LABEL_OF), help="which model to train")
    parser.add_argument("folder", type=Path, help="FinanceDatabase database/equities CSVs")
    args = parser.parse_args()
    texts, labels = read_rows(args.folder, LABEL_OF[args.model])
    unknown = set(labels) - LABELS_OF[args.model]()
    assert not unknown, f"not labels of the {args.model} model: {unknown}"
    counts = ", ".join(f"{label} {labels.count(label)}" for label in sorted(set(labels)))
    print(f"{len(texts)} summaries: {counts}")
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, min_df=3, max_features=MAX_TERMS, ngram_range=(1, 2),
        stop_words="english", token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )  # fmt: skip
    matrix = vectorizer.fit_transform(texts)
    best = max(
        (1.0, 4.0, 16.0),
        key=lambda strength: cross_val_score(
            LogisticRegression(C=strength, max_iter=2000, class_weight="balanced"),
            matrix, labels, cv=3, scoring="accuracy",
        ).mean(),
    )  # fmt: skip
    model = LogisticRegression(C=best, max_iter=2000, class_weight="balanced").fit(matrix, labels)
    print(f"strength C={best}")
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:
        # scikit-learn keeps one row for two classes (the second's log-odds); the shipped
        # arrays keep one per class, softmax over [0, logit] being that same probability.
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    path = model_path(args.model)
    path.parent.mkdir(exist_ok=True)
    np.savez_compressed(
        path,
        terms=vectorizer.get_feature_names_out().astype(str),
        idf=vectorizer.idf_.astype(np.float32),
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
        classes=np.array(model.classes_, dtype=str),
        stop_words=np.array(sorted(ENGLISH_STOP_WORDS), dtype=str),
    )
    load_text_model.cache_clear()
    shipped = load_text_model(args.model)
    expected = model.predict_proba(vectorizer.transform(texts[:200]))
    for text, row in zip(texts[:200], expected, strict=True):
        got = shipped.probabilities(text)
        assert max(abs(got[name] - p) for name, p in zip(model.classes_, row, strict=True)) < 1e-3
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
