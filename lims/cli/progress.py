"""What a long command is doing, on stderr: each step as it starts, and how long it took.

Public names: ``step``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import typer

__all__ = ["step"]


@contextmanager
def step(what: str) -> Iterator[None]:
    """Print ``nbs: WHAT ...`` on stderr now and ``... done in N s`` when the block ends."""
    typer.echo(f"nbs: {what} ...", err=True)
    started = time.perf_counter()
    yield
    typer.echo(f"nbs: {what}: done in {time.perf_counter() - started:.1f} s", err=True)
