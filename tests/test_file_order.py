"""The list of heaviest test files names files that exist, each once."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.file_order import HEAVIEST


def test_every_heavy_file_exists_once():
    assert len(set(HEAVIEST)) == len(HEAVIEST)
    missing = [path for path in HEAVIEST if not (ROOT / path).is_file()]
    assert not missing, missing
