"""The second-tier panel as a method: it loads against the catalogue its analytes extend, the
C5 isomers sharing one transition are told apart only by retention time, a panel name that
names a first-tier analyte is refused, and a run of the panel written by the virtual instrument
in every named vendor format reads back, through that catalogue, to the concentrations it was
made from."""

from __future__ import annotations

import pandas as pd
import pytest

import instruments
from instruments.errors import InstrumentError
from instruments.virtual import simulate_plate, suffix, write_plate
from msms.catalogue import default_catalogue
from msms.errors import DataError
from msms.quantify import quantify
from msms.second_tier_assays import second_tier_assays
from msms.second_tier_panel import (
    SECOND_TIER_METHOD_TOML,
    load_second_tier_method,
    second_tier_catalogue,
    second_tier_method,
)


def test_the_panel_measures_every_concentration_assay_of_the_catalogue():
    method = second_tier_method()
    assays = second_tier_assays()
    # the genotypes (ACADM, ACADVL variants) are read by sequencing, not by the panel
    assert set(method.codes) == {c for c, a in assays.items() if not a.is_count}
    catalogue = second_tier_catalogue()
    assert catalogue.resolve("isovalerylcarnitine") == "C5-IV"
    assert catalogue.resolve("C5") == "C5"  # the first-tier analytes stay
    assert len(catalogue.codes) == len(default_catalogue().codes) + len(method.codes)
    assert not method.verified


def test_isomers_of_one_transition_need_retention_times(tmp_path):
    text = SECOND_TIER_METHOD_TOML.read_text(encoding="utf-8")
    same = text.replace("retention_time_min = 4.9\n", "retention_time_min = 4.65\n", 1)
    path = tmp_path / "panel.toml"
    path.write_text(same, encoding="utf-8")
    with pytest.raises(DataError, match="cannot be told apart"):
        load_second_tier_method(path)
    path.write_text(text.replace("retention_time_min = 4.9\n", "", 1), encoding="utf-8")
    with pytest.raises(DataError, match="cannot be told apart"):
        load_second_tier_method(path)


def test_a_panel_name_of_a_first_tier_analyte_is_refused(tmp_path):
    text = SECOND_TIER_METHOD_TOML.read_text(encoding="utf-8")
    path = tmp_path / "panel.toml"
    path.write_text(text.replace("[analytes.GA]", "[analytes.Phe]", 1), encoding="utf-8")
    with pytest.raises(DataError, match="'Phe' is not an assay of the second-tier catalogue"):
        load_second_tier_method(path)


@pytest.mark.parametrize("fmt", ["masslynx", "quandata", "csv-long", "csv-wide"])
def test_a_panel_run_reads_back_through_the_panel_catalogue(fmt, tmp_path):
    method, catalogue = second_tier_method(), second_tier_catalogue()
    medians = {a: catalogue.analyte(a).pop_median_umol_l for a in method.codes}
    cohort = pd.DataFrame([{"specimen_id": f"S{i:03d}", **medians,
                            "aIle": 0.5 + i / 10, "MCA": 0.1 + i / 20} for i in range(89)])
    plate = simulate_plate(seed=21, method=method, catalogue=catalogue, cohort=cohort,
                           plate_id="ST-9")
    path = tmp_path / f"st{suffix(fmt)}"
    write_plate(plate, path, format=fmt)
    with pytest.raises(InstrumentError, match="unmapped analyte|no column names an analyte"):
        instruments.read(path)  # the packaged catalogue does not know the panel
    # a wide CSV's profile is chosen by its analyte columns, which only the packaged
    # catalogue names: the panel's wide CSV names its profile
    profile = "generic_wide" if fmt == "csv-wide" else None
    run = instruments.read(path, catalogue=catalogue, transitions=method, profile=profile)
    profiles = quantify(run.measurements, method, catalogue=catalogue).profiles
    truth = plate.truth[plate.truth["sample_type"] == "patient"].set_index("sample_id")
    got = profiles.set_index("specimen_id")
    for code in ("aIle", "MCA", "C5-IV", "C5-PIV"):
        error = (got[code] / truth.loc[got.index, code] - 1).abs()
        assert error.median() < 0.06, (fmt, code, error.median())
