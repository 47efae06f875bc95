"""Rendering many documents at once: each view model is rendered in one of ``workers``
processes (``spawn``, so no database connection or thread of the caller is copied), in order.
``reports`` renders in invariant mode, so a document rendered in a worker has the same bytes
as one rendered in the caller (a test checks it).

Public names: ``render_all``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

__all__ = ["render_all"]

_M = TypeVar("_M")


def render_all(models: Sequence[_M], render: Callable[[_M], bytes], *,
               workers: int = 1) -> list[bytes]:
    """``render`` of each model, in order; ``workers`` > 1 renders in that many processes."""
    if workers <= 1 or len(models) < 2:
        return [render(m) for m in models]
    chunk = max(1, len(models) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(render, models, chunksize=chunk))
