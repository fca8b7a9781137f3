"""Cutting work into batches: each batch is written in one short transaction, so a run killed
half way keeps every batch it finished and the warehouse lock is never held for long."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """`items` in order, `size` at a time (the last batch may be smaller)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
