"""The screening core as seen by the LIMS: file -> quantified plate with QC; profiles -> calls.

The ingest service (``lims.runs.service``) is written against the ``PlateProcessor`` protocol so
the persistence rules (one transaction, idempotency, held wells, alerts) do not depend on how a
file is read. ``CoreProcessor`` is the production processor: ``instruments.read`` ->
``msms.quantify`` -> ``msms.qc`` -> ``cutoffs`` evaluation (and the second tier when a model is
configured). Its imports are resolved when it is first used, so the LIMS starts even where a
core module is not installed, and says which one is missing.

Public names: ``QuantifiedPlate``, ``EvaluatedCalls``, ``PlateProcessor``, ``CoreProcessor``,
``WELL_COLUMNS``, ``CALL_COLUMNS``, ``check_wells``, ``check_calls``.
"""

from __future__ import annotations

import importlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from lims.errors import ConfigurationError
from msms.tables import PROFILE_ID

__all__ = [
    "CALL_COLUMNS",
    "WELL_COLUMNS",
    "CoreProcessor",
    "EvaluatedCalls",
    "PlateProcessor",
    "QuantifiedPlate",
    "check_calls",
    "check_wells",
]

#: One row per well and analyte, concentrations in µmol/L blood.
WELL_COLUMNS: tuple[str, ...] = ("well", "sample_id", "sample_type", "analyte", "conc_umol_l")
#: DESIGN §4.3.
CALL_COLUMNS: tuple[str, ...] = (
    PROFILE_ID, "disorder", "first_tier", "reasons", "score", "second_tier_probability",
    "final", "time_critical", "action", "cutoff_version", "model_version",
)
QC_DECISIONS = ("accept", "accept_with_warnings", "reject")


@dataclass(frozen=True)
class QuantifiedPlate:
    """A plate read, quantified and checked: what the LIMS stores for a run."""

    plate_id: str
    instrument_run_id: str
    format: str
    wells: pd.DataFrame
    qc_decision: str
    qc_reasons: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EvaluatedCalls:
    """Calls (DESIGN §4.3) for a profiles table, and the versions that produced them."""

    calls: pd.DataFrame
    cutoff_version: str
    model_version: str = ""
    percentiles: pd.DataFrame | None = None


class PlateProcessor(Protocol):
    """What the ingest pipeline needs from the screening core."""

    def quantify(self, data: bytes, file_name: str, *,
                 control_history: pd.DataFrame) -> QuantifiedPlate:
        """Read ``data`` (the bytes of ``file_name``), quantify it and check the plate."""
        ...

    def evaluate(self, profiles: pd.DataFrame) -> EvaluatedCalls:
        """Evaluate profiles (DESIGN §4.2) against the cutoffs (and the second tier)."""
        ...


def check_wells(plate: QuantifiedPlate) -> None:
    """The processor kept the well contract (a programming error otherwise)."""
    missing = [c for c in WELL_COLUMNS if c not in plate.wells.columns]
    if missing:
        raise ValueError(f"quantified wells lack column(s) {', '.join(missing)}")
    if plate.qc_decision not in QC_DECISIONS:
        raise ValueError(f"QC decision {plate.qc_decision!r} is not one of {QC_DECISIONS}")


def check_calls(calls: pd.DataFrame) -> None:
    missing = [c for c in CALL_COLUMNS if c not in calls.columns]
    if missing:
        raise ValueError(f"calls lack column(s) {', '.join(missing)}")


def _core(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(
            f"the screening core module {module} is not available ({exc}); "
            "the LIMS cannot process instrument files without it") from None


class CoreProcessor:
    """The production processor over the pure core (instruments, msms, cutoffs)."""

    def __init__(self, *, format: str = "auto", method: str = "nonderivatized",
                 cutoffs: Path | None = None, second_tier_model: Path | None = None) -> None:
        self.format = format
        self.method = method
        self.cutoffs = cutoffs
        self.second_tier_model = second_tier_model

    def quantify(self, data: bytes, file_name: str, *,
                 control_history: pd.DataFrame) -> QuantifiedPlate:
        instruments = _core("instruments")
        quantify_module = _core("msms.quantify")
        methods = _core("msms.methods")
        qc = _core("msms.qc")
        suffix = Path(file_name).suffix
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / (Path(file_name).name or f"upload{suffix}")
            path.write_bytes(data)
            run = instruments.read(path, format=self.format)
        method = methods.default_method(self.method)
        quantified = quantify_module.quantify(run.measurements, method)
        profiles = quantified.profiles if hasattr(quantified, "profiles") else quantified[0]
        decision = qc.check_plate(run.measurements, profiles, history=control_history)
        wells = _long_wells(run.measurements, profiles)
        return QuantifiedPlate(
            plate_id=str(run.plate_id), instrument_run_id=str(run.run_id),
            format=str(run.format), wells=wells, qc_decision=str(decision.decision),
            qc_reasons=[str(r) for r in decision.reasons],
            issues=[str(i) for i in run.issues])

    def evaluate(self, profiles: pd.DataFrame) -> EvaluatedCalls:
        cutoffs = _core("cutoffs")
        table = cutoffs.default_cutoffs() if self.cutoffs is None else cutoffs.load_cutoffs(
            self.cutoffs)
        calls = cutoffs.evaluate(profiles, cutoffs.default_rules(), table)
        model_version = ""
        if self.second_tier_model is not None:
            second_tier = _core("cutoffs.second_tier")
            model = second_tier.load(self.second_tier_model)
            calls = second_tier.apply(model, profiles, calls)
            model_version = str(getattr(model, "version_", ""))
        version = str(calls["cutoff_version"].iloc[0]) if len(calls) else str(
            getattr(table, "version", ""))
        return EvaluatedCalls(calls=calls, cutoff_version=version, model_version=model_version)


def _long_wells(measurements: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """Profiles (one row per well, analyte columns) -> the long well table."""
    keys = measurements[["well", "sample_id", "sample_type"]].drop_duplicates("well")
    analytes = [c for c in profiles.columns if c not in {PROFILE_ID, "well", "sample_id",
                                                         "sample_type", "plate_id", "run_id"}]
    wide = profiles.rename(columns={PROFILE_ID: "sample_id"})
    id_columns = [c for c in ("well", "sample_id") if c in wide.columns]
    long = wide.melt(id_vars=id_columns, value_vars=analytes, var_name="analyte",
                     value_name="conc_umol_l")
    if "well" not in long.columns:
        long = long.merge(keys, on="sample_id", how="left")
    else:
        long = long.merge(keys[["well", "sample_type"]], on="well", how="left")
    return long[list(WELL_COLUMNS)]
