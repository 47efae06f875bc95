"""Plates for the reflex tests: a first-tier CSV plate (``tests/lims/plates.py``'s format)
with the markers the reflex groups follow, a small pipeline that flags them, and a second-tier
run written by the virtual instrument in a vendor format with the second-tier panel's method.

First-tier rules of ``ReflexCsvPipeline`` (on top of ``CsvPipeline``'s Phe and Xle > 400
critical): Xle 250-400 -> MSUD positive (time-critical), Tyr > 300 -> TYR1 positive, C3 > 5 ->
PA positive, C5 > 0.6 -> IVA positive, C8 > 0.4 -> MCAD positive (time-critical; 0.3-0.4
borderline, which opens no alert of its own), Tyr > 600
-> TYR2 positive as well; each asks for a repeat specimen (no duplicates), so the card goes
straight to review or to the second tier. With ``include_normal`` every disorder these rules
know has a call, normal ones included (no scores: the pipeline has no cutoff table).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlmodel import Session

from cutoffs import CALL_COLUMNS
from cutoffs.reflex.decide import Calibration
from instruments.virtual import simulate_plate, suffix, write_plate
from lims.accession.schemas import SpecimenCreate
from lims.accession.service import accession
from lims.audit import SYSTEM
from lims.models import Infant, Specimen
from lims.pipeline import WELL_COLUMNS, EvaluatedCalls, Reflex
from lims.reference import barcode_rule
from lims.vocabulary import Stage
from msms.second_tier_panel import second_tier_catalogue, second_tier_method
from tests.lims.plates import CUTOFF_VERSION, CsvPipeline, _call

NORMAL = {"Phe": 55.0, "Xle": 150.0, "Tyr": 70.0, "C3": 2.0, "C5": 0.15, "C8": 0.1}
#: the disorders ``ReflexCsvPipeline`` calls, and whether each is time-critical
DISORDERS = {"PKU": False, "MSUD": True, "TYR1": False, "TYR2": False, "PA": False,
             "IVA": False, "MCAD": True}
_WELLS = [f"{r}{c:02d}" for r in "ABCDEFGH" for c in range(1, 13)]


def first_tier_plate(plate_id: str, patients: dict[str, dict[str, float]]) -> bytes:
    lines = [f"# plate_id={plate_id}", ",".join(WELL_COLUMNS),
             "A01,QC-LOW,qc_low,Phe,60", "A02,QC-HIGH,qc_high,Phe,300"]
    for well, (barcode, overrides) in zip(_WELLS[2:], patients.items(), strict=False):
        for analyte, normal in NORMAL.items():
            lines.append(f"{well},{barcode},patient,{analyte},{overrides.get(analyte, normal)}")
    return ("\n".join(lines) + "\n").encode()


class ReflexCsvPipeline(CsvPipeline):
    """``CsvPipeline`` with the reflex second tier on (literature levels) and the rules above."""

    cutoffs = None

    def __init__(self) -> None:
        super().__init__()
        self.reflex = Reflex.literature()

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        base = super().evaluate(profiles, stage=stage).calls
        rows: list[dict[str, Any]] = base.to_dict("records")
        for p in profiles.to_dict("records"):
            sid = p["specimen_id"]
            if 250 < p["Xle"] <= 400:
                rows.append(_call(sid, "MSUD", "positive", f"Xle={p['Xle']:.0f}>250",
                                  "request_repeat_specimen", True))
            if p.get("Tyr", 0) > 300:
                rows.append(_call(sid, "TYR1", "positive", f"Tyr={p['Tyr']:.0f}>300",
                                  "request_repeat_specimen", False))
            if p.get("C3", 0) > 5:
                rows.append(_call(sid, "PA", "positive", f"C3={p['C3']:.1f}>5",
                                  "request_repeat_specimen", False))
            if p.get("C5", 0) > 0.6:
                rows.append(_call(sid, "IVA", "positive", f"C5={p['C5']:.2f}>0.6",
                                  "request_repeat_specimen", False))
            if p.get("C8", 0) > 0.4:
                rows.append(_call(sid, "MCAD", "positive", f"C8={p['C8']:.2f}>0.4",
                                  "request_repeat_specimen", True))
            elif p.get("C8", 0) > 0.3:
                rows.append({**_call(sid, "MCAD", "borderline", f"C8={p['C8']:.2f}>0.3",
                                     "request_repeat_specimen", True), "final": "borderline"})
            if p.get("Tyr", 0) > 600:
                rows.append(_call(sid, "TYR2", "positive", f"Tyr={p['Tyr']:.0f}>600",
                                  "request_repeat_specimen", False))
        if include_normal:
            called = {(r["specimen_id"], r["disorder"]) for r in rows}
            rows += [{**_call(sid, d, "normal", "", "none", critical), "final": "negative"}
                     for sid in profiles["specimen_id"] for d, critical in DISORDERS.items()
                     if (sid, d) not in called]
        return EvaluatedCalls(pd.DataFrame(rows, columns=list(CALL_COLUMNS)), CUTOFF_VERSION)


class GenotypingReflexCsvPipeline(ReflexCsvPipeline):
    """``ReflexCsvPipeline`` in a laboratory that imports ACADM and ACADVL genotypes
    (``NBS_REFLEX_GENOTYPES``): a card flagged in the FAO group waits for them."""

    def __init__(self) -> None:
        super().__init__()
        self.reflex = Reflex.literature().with_genotypes()


def genotype_csv(rows: list[tuple[str, str, int, str]], *, reported_at: str = "2026-03-05",
                 reference: str = "MOL-1") -> bytes:
    """A genotype results file (docs/second_tier.md "Genotype results") of (barcode, gene,
    variants detected, HGVS text) rows."""
    lines = ["barcode,gene,variants_detected,variants,reported_at,lab_reference"]
    lines += [f"{b},{g},{n},{v},{reported_at},{reference}" for b, g, n, v in rows]
    return ("\n".join(lines) + "\n").encode()


class _OneScorePipeline(ReflexCsvPipeline):
    """``ReflexCsvPipeline`` whose ``DISORDER`` is scored as ``MARKER / DIVISOR`` against a
    score cutoff, with a calibrated repeat level for its ``GROUP``."""

    DISORDER = MARKER = GROUP = VERSION = ""
    DIVISOR = CUTOFF = REPEAT_LEVEL = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.cutoffs = SimpleNamespace(scores=SimpleNamespace(  # type: ignore[assignment]
            disorders={self.DISORDER: SimpleNamespace(cutoff=self.CUTOFF)}))
        self.reflex = Reflex(self.reflex.rules,
                             Calibration(repeat_clear_below={self.GROUP: self.REPEAT_LEVEL}),
                             self.VERSION)

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        calls = super().evaluate(profiles, stage=stage, include_normal=include_normal).calls
        values = dict(zip(profiles["specimen_id"], profiles[self.MARKER], strict=True))
        mine = calls["disorder"] == self.DISORDER
        calls["score"] = calls["score"].astype(object)
        calls.loc[mine, "score"] = [float(values[s]) / self.DIVISOR
                                    for s in calls.loc[mine, "specimen_id"]]
        return EvaluatedCalls(calls, CUTOFF_VERSION)


class ScoredReflexCsvPipeline(_OneScorePipeline):
    """``ReflexCsvPipeline`` with an MCAD score (C8 / 0.1), its score cutoff 4 and a
    calibrated FAO repeat level (above)."""

    DISORDER, MARKER, GROUP, VERSION = "MCAD", "C8", "FAO", "reflex test calibrated"
    DIVISOR, CUTOFF, REPEAT_LEVEL = 0.1, 4.0, -2.0


class TyrosineScoredPipeline(_OneScorePipeline):
    """``ReflexCsvPipeline`` with a TYR1 score (Tyr / 50, cutoff 6: Tyr 300) and a calibrated
    TYR repeat level 2 SD below the cutoff: a repeat whose tyrosine is normal but above
    200 µmol/L is not cleared, and waits for succinylacetone."""

    DISORDER, MARKER, GROUP, VERSION = "TYR1", "Tyr", "TYR", "reflex test calibrated TYR"
    DIVISOR, CUTOFF, REPEAT_LEVEL = 50.0, 6.0, -2.0


def second_tier_export(directory: Path, values: dict[str, dict[str, float]], *,
                       plate_id: str = "ST-1", seed: int = 5, format: str = "masslynx") -> bytes:
    """A second-tier run of the cards ``values`` names (barcode -> assay -> true µmol/L; the
    other assays at their reference median), simulated by the virtual instrument with the
    panel's method and written in ``format``: blanks and controls, then one well per card."""
    method, catalogue = second_tier_method(), second_tier_catalogue()
    medians = {a: catalogue.analyte(a).pop_median_umol_l for a in method.codes}
    rows = [{"specimen_id": b, **medians, **v} for b, v in values.items()]
    rows += [{"specimen_id": f"FILL{i:03d}", **medians} for i in range(89 - len(rows))]
    plate = simulate_plate(seed=seed, method=method, catalogue=catalogue,
                           cohort=pd.DataFrame(rows), plate_id=plate_id)
    m = plate.run.measurements
    keep = (m["sample_type"] != "patient") | m["sample_id"].isin(list(values))
    run = dataclasses.replace(plate.run, measurements=m[keep].reset_index(drop=True))
    path = directory / f"{plate_id}{suffix(format)}"
    write_plate(dataclasses.replace(plate, run=run), path, format=format)
    return path.read_bytes()


def accession_repeat(session: Session, earlier: Specimen, age_hours: float, number: int) -> str:
    """Accession the repeat card of ``earlier``'s baby, collected at ``age_hours`` of age and
    received a day later, barcode number 40,000,000 + ``number``; its barcode."""
    infant = session.get(Infant, earlier.infant_id)
    assert infant is not None
    collected = infant.birth_at + timedelta(hours=age_hours)
    return accession(session, SYSTEM, SpecimenCreate(
        barcode=barcode_rule().make(f"{40_000_000 + number:08d}"),
        submitter_id=earlier.submitter_id, collected_at=collected,
        received_at=collected + timedelta(days=1), previous_barcode=earlier.barcode)).barcode
