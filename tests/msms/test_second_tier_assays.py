"""The second-tier assay catalogue: the packaged file and its validation."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from msms.catalogue import default_catalogue
from msms.errors import CatalogueError
from msms.second_tier_assays import (
    SECOND_TIER_ASSAYS_CSV,
    load_second_tier_assays,
    second_tier_assays,
)


def test_packaged_catalogue_holds_the_profile_columns():
    assays = second_tier_assays()
    assert {"MMA", "MCA", "tHcy", "C5-IV", "C5-2MB", "C5-PIV", "aIle", "GA", "3OH-GA",
            "C26:0-LPC-2T", "SUAC-2T", "ACADM", "ACADVL"} == set(assays)
    assert assays["MCA"].cutoff_umol_l == 1.0  # Ontario
    assert assays["tHcy"].reference_p99_umol_l == 14.7  # Minnesota
    assert "pivalate_exposure" in assays["C5-PIV"].resolves
    assert "tpn" in assays["aIle"].resolves
    assert assays["aIle"].informs == ("MSUD",)
    for assay in assays.values():
        assert "http" in assay.source or "domain notes" in assay.source
        assert assay.loq_umol_l < assay.cutoff_umol_l


def test_every_informed_disorder_is_catalogued():
    codes = {d.code for d in default_catalogue().disorders}
    for assay in second_tier_assays().values():
        assert set(assay.informs) <= codes


def _edited(tmp_path: Path, code: str, field: str, value: str) -> Path:
    rows = list(csv.DictReader(io.StringIO(SECOND_TIER_ASSAYS_CSV.read_text(encoding="utf-8"))))
    for row in rows:
        if row["code"] == code:
            row[field] = value
    out = tmp_path / "assays.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


@pytest.mark.parametrize(("code", "field", "value", "message"), [
    ("MCA", "cutoff_umol_l", "abc", "not a number"),
    ("MCA", "cutoff_umol_l", "0.1", "above the reference median"),
    ("MMA", "informs", "MUT|NOPE", "unknown disorder code 'NOPE'"),
    ("aIle", "resolves", "tpn|sunburn", "unknown false-positive mechanism 'sunburn'"),
    ("GA", "first_tier_markers", "C5DX", "unknown analyte"),
    ("tHcy", "unit", "mg/dL", "must be umol/L"),
    ("C5-IV", "code", "C5", "is a first-tier analyte code"),
    ("C5-IV", "code", "MCA", "duplicate code 'MCA'"),
])
def test_a_bad_row_is_refused_naming_file_line_and_field(tmp_path, code, field, value, message):
    path = _edited(tmp_path, code, field, value)
    with pytest.raises(CatalogueError, match=message) as info:
        load_second_tier_assays(path)
    assert info.value.file == str(path)
    assert info.value.line is not None and info.value.line >= 2
    assert info.value.field in (field, "code")


def test_genotype_rows_are_counts_of_variants_for_one_disorder_each():
    assays = second_tier_assays()
    counts = [a for a in assays.values() if a.is_count]
    assert [a.code for a in counts] == ["ACADM", "ACADVL"]
    assert assays["ACADM"].informs == ("MCAD",) and assays["ACADVL"].informs == ("VLCAD",)
    for a in counts:
        assert a.unit == "variants"
        assert (a.loq_umol_l, a.reference_median_umol_l, a.cutoff_umol_l) == (1, 0, 2)
        assert "estimate" in a.figures_provenance  # the per-allele detection rate
        assert a.source.count("http") >= 3
    assert not assays["MCA"].is_count


@pytest.mark.parametrize(("field", "value", "message"), [
    ("cutoff_umol_l", "1.5", "a count of variants must be 0, 1 or 2"),
    ("reference_p99_umol_l", "2", "median <= p99 < cutoff"),
    ("loq_umol_l", "0", "smallest reported count"),
    ("unit", "copies", "must be umol/L or variants"),
])
def test_a_bad_genotype_row_is_refused_naming_file_line_and_field(tmp_path, field, value,
                                                                   message):
    path = _edited(tmp_path, "ACADVL", field, value)
    with pytest.raises(CatalogueError, match=message) as info:
        load_second_tier_assays(path)
    assert (info.value.file, info.value.field) == (str(path), field)
    assert info.value.line == 14  # the header, 11 concentration assays, ACADM, ACADVL
