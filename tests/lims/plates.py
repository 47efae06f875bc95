"""A small screening pipeline for LIMS tests: plates as CSV of concentrations, two rules.

It keeps the ``Screening`` contract (``lims.pipeline``) so the LIMS's persistence rules are
tested on plates of a few wells; the real pipeline is tested with whole simulated plates
(``tests/lims/runs/test_core_pipeline.py``). File format::

    # plate_id=PLATE-1
    well,sample_id,sample_type,analyte,conc_umol_l
    A01,QC-LOW,qc_low,Phe,60
    ...

Rules: Phe > 120 µmol/L -> PKU positive, repeat in duplicate; Xle > 400 -> MSUD critical,
time-critical, immediate referral. A control outside its range rejects the plate.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from cutoffs import CALL_COLUMNS, reference_quantiles, score
from instruments import Source
from lims.errors import InvalidInputError
from lims.pipeline import (
    WELL_COLUMNS,
    EvaluatedCalls,
    Reflex,
    ScreenedPlate,
    profiles_from_wells,
)
from lims.vocabulary import QcDecision, Stage

CUTOFF_VERSION = "test-cutoffs-1"
NORMAL = {"Phe": 55.0, "Xle": 150.0, "Tyr": 70.0}
QC_RANGE = {"qc_low": {"Phe": (40.0, 80.0)}, "qc_high": {"Phe": (200.0, 350.0)}}
_WELLS = [f"{r}{c:02d}" for r in "ABCDEFGH" for c in range(1, 13)]


def plate_csv(plate_id: str, patients: dict[str, dict[str, float]] | list[
        tuple[str, dict[str, float]]], *, qc_low_phe: float = 60.0,
        qc_high_phe: float = 300.0) -> bytes:
    """A plate: two controls, then one well per (barcode, overrides) pair."""
    items = list(patients.items()) if isinstance(patients, dict) else list(patients)
    lines = [f"# plate_id={plate_id}", ",".join(WELL_COLUMNS)]
    lines += [f"A01,QC-LOW,qc_low,Phe,{qc_low_phe}", f"A02,QC-HIGH,qc_high,Phe,{qc_high_phe}"]
    for well, (barcode, overrides) in zip(_WELLS[2:], items, strict=False):
        for analyte, normal in NORMAL.items():
            lines.append(f"{well},{barcode},patient,{analyte},{overrides.get(analyte, normal)}")
    return ("\n".join(lines) + "\n").encode()


class CsvPipeline:
    """Reads ``plate_csv`` files; evaluates the two rules above; scores as the real pipeline
    does without a cutoff table. No reflex second tier."""

    reflex: Reflex | None = None

    def __init__(self) -> None:
        self.quantified = 0

    def screen(self, data: bytes, file_name: str, *, control_history: pd.DataFrame,
               plate_map: Source | None = None) -> ScreenedPlate:
        if plate_map is not None:
            raise InvalidInputError("the test plates carry their barcodes; no plate map",
                                    file=plate_map.name)
        text = data.decode("utf-8", errors="strict")
        first, _, body = text.partition("\n")
        if not first.startswith("# plate_id="):
            raise InvalidInputError("expected '# plate_id=...'", file=file_name, line=1,
                                    field="plate_id")
        wells = pd.read_csv(io.StringIO(body), dtype={"sample_id": "str"})
        self.quantified += 1
        reasons = []
        for row in wells.itertuples(index=False):
            low_high = QC_RANGE.get(row.sample_type, {}).get(row.analyte)
            if low_high and not low_high[0] <= row.conc_umol_l <= low_high[1]:
                reasons.append(f"{row.sample_id} {row.analyte}={row.conc_umol_l} outside "
                               f"{low_high[0]}-{low_high[1]} (1-3s)")
        patients = wells[wells["sample_type"] == "patient"]
        return ScreenedPlate(plate_id=first.split("=", 1)[1].strip(), instrument_run_id="",
                             format="test-csv", wells=wells,
                             profiles=profiles_from_wells(patients),
                             qc_decision=QcDecision.reject if reasons else QcDecision.accept,
                             qc_reasons=tuple(reasons))

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        rows: list[dict[str, Any]] = []
        for p in profiles.to_dict("records"):
            if p["Phe"] > 120:
                rows.append(_call(p["specimen_id"], "PKU", "positive",
                                  f"Phe={p['Phe']:.0f}>120", "repeat_in_duplicate", False))
            if p["Xle"] > 400:
                rows.append(_call(p["specimen_id"], "MSUD", "critical",
                                  f"Xle={p['Xle']:.0f}>400", "immediate_referral", True))
        if include_normal:
            called = {(r["specimen_id"], r["disorder"]) for r in rows}
            rows += [{**_call(sid, d, "normal", "", "none", critical), "final": "negative"}
                     for sid in profiles["specimen_id"]
                     for d, critical in (("PKU", False), ("MSUD", True))
                     if (sid, d) not in called]
        calls = pd.DataFrame(rows, columns=list(CALL_COLUMNS))
        return EvaluatedCalls(calls=calls, cutoff_version=CUTOFF_VERSION)

    def score(self, profiles: pd.DataFrame, markers: list[str] | None = None) -> pd.DataFrame:
        return score(profiles, markers=markers)

    def quantiles(self, profiles: pd.DataFrame, markers: list[str],
                  probs: tuple[float, ...]) -> pd.DataFrame:
        return reference_quantiles(profiles, None, markers, probs)


def _call(specimen_id: str, disorder: str, tier: str, reasons: str, action: str,
          time_critical: bool) -> dict[str, Any]:
    return {"specimen_id": specimen_id, "disorder": disorder, "first_tier": tier,
            "reasons": reasons, "score": None, "second_tier_probability": None,
            "final": "positive", "time_critical": time_critical, "action": action,
            "cutoff_version": CUTOFF_VERSION, "model_version": ""}


class FailingPipeline(CsvPipeline):
    """Fails while evaluating, after the run and results have been written."""

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        raise RuntimeError("evaluation crashed")
