"""Each well's internal-standard signal summed up for the plate map (``well_signal``)."""

from __future__ import annotations

import math

from msms.methods import default_method
from msms.qc.internal_standard import check_internal_standards, well_signal
from tests.msms.qc.builders import Well, medians, plate

CODES = ["Phe", "Tyr", "C0", "C8", "C10"]


def wells() -> list[Well]:
    out = [Well(f"A{i:02d}", f"S{i}", "patient", medians(CODES)) for i in range(1, 9)]
    out[2].is_factor = {"C8": 0.1, "Phe": 0.6}
    out[4].no_is = ["Tyr"]
    out[5].is_factor = {"C0": 1.2}
    return out


def test_the_lowest_standard_of_each_well_and_its_status() -> None:
    method = default_method()
    signal = well_signal(check_internal_standards(plate(wells())), method).set_index("well")
    assert list(signal.index) == [f"A{i:02d}" for i in range(1, 9)]
    a03 = signal.loc["A03"]
    assert a03["status"] == "low"
    assert a03["fraction"] == 0.1
    assert a03["internal_standard"] == method.analyte("C8").internal_standard.name
    a05 = signal.loc["A05"]
    assert a05["status"] == "missing" and math.isnan(a05["fraction"])
    assert a05["internal_standard"] == method.analyte("Tyr").internal_standard.name
    assert signal.loc["A06", "status"] == "ok"
    assert signal.loc["A06", "fraction"] == 1.0      # its other standards are at the median
    assert signal.loc["A01", "fraction"] == 1.0
    assert (signal.loc["A01", "sample_id"], signal.loc["A01", "sample_type"]) == ("S1",
                                                                                  "patient")


def test_vendor_concentrations_are_unchecked() -> None:
    signal = well_signal(check_internal_standards(plate(wells(), vendor=True)))
    assert set(signal["status"]) == {"unchecked"}
    assert signal["fraction"].isna().all()
