"""Plate archives are read within size limits: a zip bomb is refused from the sizes it
declares, before it is inflated, naming the file, the member and the limit; memory holds one
member at a time."""

from __future__ import annotations

import tracemalloc
from functools import cache

import pytest

import instruments
from instruments import ArchiveLimits, ArchiveTooLargeError
from instruments.virtual import simulate_plate, write_plate
from tests.instruments.builders import zip_bomb

MIB = 2**20


@cache
def bomb() -> bytes:
    """Two 100 MiB members in 0.9 MB: the shape of the probe's 1.4 MB zip of 2 x 700 MiB."""
    return zip_bomb({"P1_A01.mzML": 100 * MIB, "P1_A02.mzML": 100 * MIB}, level=1)


def test_a_zip_bomb_is_refused_without_inflating_it():
    data = bomb()
    assert len(data) < 2 * MIB
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveTooLargeError) as caught:
            instruments.read(data, name="bomb.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = caught.value
    assert err.file == "bomb.zip!P1_A01.mzML" and err.field == "uncompressed size"
    assert "100.0 MiB, more than the limit of 64.0 MiB per file" in str(err)
    assert peak < 8 * MIB  # nothing inflated: the zip itself is under 1 MiB


def test_a_member_compressed_like_a_bomb_is_refused_by_its_ratio():
    data = zip_bomb({"P1_A01.mzML": 8 * MIB})
    with pytest.raises(ArchiveTooLargeError, match="compressed 1[0-9]{3} to 1") as caught:
        instruments.read(data, name="ratio.zip")
    assert caught.value.field == "compression ratio"
    assert caught.value.file == "ratio.zip!P1_A01.mzML"


def test_a_plate_within_the_limits_reads_and_one_over_the_total_is_refused(tmp_path):
    path = tmp_path / "plate.zip"
    write_plate(simulate_plate(seed=3, plate_id="P-LIM"), path, format="mzml")
    assert instruments.read(path).plate_id == "P-LIM"
    with pytest.raises(ArchiveTooLargeError, match="inflate to .* more than the limit of "
                                                   "8.0 MiB in all") as caught:
        instruments.read(path, limits=ArchiveLimits(max_total_bytes=8 * MIB))
    assert caught.value.file == str(path)
    with pytest.raises(ArchiveTooLargeError, match="per file"):
        instruments.read(path, limits=ArchiveLimits(max_member_bytes=100_000))


def test_a_directory_plate_is_held_to_the_same_limits(tmp_path):
    path = tmp_path / "plate"
    write_plate(simulate_plate(seed=4, plate_id="P-DIR"), path, format="mzml")
    assert path.is_dir()
    with pytest.raises(ArchiveTooLargeError, match="per file"):
        instruments.read(path, limits=ArchiveLimits(max_member_bytes=100_000))


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        ArchiveLimits(max_total_bytes=0)
