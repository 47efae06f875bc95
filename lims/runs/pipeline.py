"""The screening core as seen by the LIMS: file -> quantified plate with QC; profiles -> calls.

The ingest service (``lims.runs.service``) is written against the ``PlateProcessor`` protocol so
the persistence rules (one transaction, idempotency, held wells, alerts) do not depend on how a
file is read. ``CoreProcessor`` is the production processor: ``instruments.read`` (of the
uploaded bytes, under the uploaded file's name, so errors name that file) ->
``msms.quantify`` -> ``msms.qc.plate.check_plate`` (with the control history the LIMS keeps) ->
``cutoffs.evaluate`` (with the second tier as a post-processing step when a model is
configured). Its imports are resolved when it is first used, so the LIMS starts even where a
core module is not installed, and says which one is missing.

``second_tier_model`` loads the model file ``NBS_SECOND_TIER_MODEL`` names, once per process;
a file that does not fit this installation (features, library versions) raises
``ConfigurationError`` naming the setting, so the service does not start with it.

Public names: ``QuantifiedPlate``, ``EvaluatedCalls``, ``PlateProcessor``, ``CoreProcessor``,
``WELL_COLUMNS``, ``CALL_COLUMNS``, ``check_wells``, ``check_calls``, ``second_tier_model``,
``cutoff_table_path``.
"""

from __future__ import annotations

import functools
import importlib
import threading
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
    "PlateMapUpload",
    "PlateProcessor",
    "QuantifiedPlate",
    "check_calls",
    "check_wells",
    "cutoff_table_path",
    "second_tier_model",
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


@dataclass(frozen=True)
class PlateMapUpload:
    """A plate map sent with an instrument file: its name (for errors) and its bytes."""

    name: str
    data: bytes


class PlateProcessor(Protocol):
    """What the ingest pipeline needs from the screening core."""

    def quantify(self, data: bytes, file_name: str, *, control_history: pd.DataFrame,
                 plate_map: PlateMapUpload | None = None) -> QuantifiedPlate:
        """Read ``data`` (the bytes of ``file_name``; ``plate_map`` the puncher's map of the
        plate, when the export lacks barcodes or must be checked against it), quantify it and
        check the plate."""
        ...

    def evaluate(self, profiles: pd.DataFrame, *, stage: str = "initial") -> EvaluatedCalls:
        """Evaluate profiles (DESIGN §4.2): ``stage`` is ``initial`` or ``duplicate`` (the
        profiles are then the means of the duplicates, which decide)."""
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


_MODELS: dict[tuple[str, float, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def cutoff_table_path(setting: str | Path | None) -> Path | None:
    """The cutoff table ``NBS_CUTOFFS`` names (None when empty), checked by reading it.

    Raises
    ------
    ConfigurationError
        Naming ``NBS_CUTOFFS`` and the file's own error (file, key) when it cannot be read or
        is not a valid cutoff table.
    """
    if setting is None or not str(setting).strip():
        return None
    file = Path(str(setting).strip())
    errors = _core("msms.errors")
    try:
        _cutoff_table_once(str(file.resolve()))
    except errors.MsmsError as exc:
        raise ConfigurationError(f"NBS_CUTOFFS={file}: {exc}") from None
    return file


@functools.cache
def _cutoff_table_once(resolved_path: str) -> Any:
    """A cutoff table file, read once per process: every plate of a process is evaluated
    against the same version, and a changed file takes effect at the next start."""
    return _core("cutoffs").load_cutoffs(resolved_path)


def second_tier_model(path: str | Path | None, *, catalogue: Any = None) -> Any:
    """The second-tier model in ``path`` (None when ``path`` is empty), loaded once per process
    (again only if the file changes).

    Raises
    ------
    ConfigurationError
        Naming ``NBS_SECOND_TIER_MODEL`` when the file is missing, is not a model, or was made
        for other features or library versions.
    """
    if path is None or not str(path).strip():
        return None
    file = Path(str(path).strip())
    try:
        stat = file.stat()
    except OSError as exc:
        raise ConfigurationError(
            f"NBS_SECOND_TIER_MODEL={file}: cannot read the model file ({exc.strerror})"
        ) from None
    key = (str(file.resolve()), stat.st_mtime, stat.st_size)
    with _MODELS_LOCK:
        if key not in _MODELS:
            model_file = _core("cutoffs.second_tier.model_file")
            errors = _core("msms.errors")
            try:
                _MODELS[key] = model_file.load_model(file, catalogue=catalogue)
            except errors.MsmsError as exc:
                raise ConfigurationError(
                    f"NBS_SECOND_TIER_MODEL={file}: the model does not fit this installation: "
                    f"{exc}") from None
        return _MODELS[key]


class CoreProcessor:
    """The production processor over the pure core (instruments, msms, cutoffs).

    ``second_tier`` is a loaded second-tier model (``second_tier_model``) or None.
    """

    def __init__(self, *, format: str = "auto", method: str = "nonderivatized",
                 cutoffs: Path | None = None, second_tier: Any = None) -> None:
        self.format = format
        self.method = method
        self.cutoffs = cutoffs
        self.second_tier = second_tier

    def prepare(self) -> None:
        """Import the core and load what it reads once (method, rules, cutoff table, covariate
        model), so that the first upload does not pay for it and a missing core module stops
        start-up, named, instead of the first upload."""
        for module in ("instruments", "msms.quantify", "msms.qc", "cutoffs.scores"):
            _core(module)
        _core("msms.methods").default_method(self.method)
        _core("cutoffs").default_rules()
        self._cutoff_table()
        _core("cutoffs.covariate_model").default_covariate_model()

    def _cutoff_table(self) -> Any:
        if self.cutoffs is None:
            return _core("cutoffs").default_cutoffs()
        return _cutoff_table_once(str(Path(self.cutoffs).resolve()))

    def score_reference(self) -> Any:
        """What the review queue's scores are relative to: the lab's cutoff table when one is
        configured (markers it lacks, and babies of strata it lacks, fall back to the covariate
        model), else the covariate model of population estimates (``cutoffs.scores``)."""
        return self._cutoff_table()

    def quantify(self, data: bytes, file_name: str, *, control_history: pd.DataFrame,
                 plate_map: PlateMapUpload | None = None) -> QuantifiedPlate:
        instruments = _core("instruments")
        quantify_module = _core("msms.quantify")
        methods = _core("msms.methods")
        qc = _core("msms.qc.plate")
        # the bytes themselves, named as uploaded: reader errors and issues name the user's
        # files (the map is read with the plate size of the profile that reads the export)
        plate = None if plate_map is None else instruments.Source(
            Path(plate_map.name).name or "plate-map", plate_map.data)
        run = instruments.read(data, format=self.format,
                               name=Path(file_name).name or "upload", plate_map=plate)
        quant = quantify_module.quantify(run.measurements, methods.default_method(self.method))
        history = control_history if len(control_history) else None
        plate_qc = qc.check_plate(quant, history=history)
        concentrations = quant.concentrations
        wells = concentrations[list(WELL_COLUMNS)].copy()
        if "reportable" in concentrations.columns:
            wells.loc[~concentrations["reportable"].astype(bool), "conc_umol_l"] = float("nan")
        decision = plate_qc.decision
        return QuantifiedPlate(
            plate_id=str(quant.plate_id or run.plate_id), instrument_run_id=str(run.run_id),
            format=str(run.format), wells=wells, qc_decision=str(decision.status),
            qc_reasons=[*map(str, decision.reasons), *map(str, decision.warnings)],
            issues=[str(i) for i in run.issues if getattr(i, "severity", "") != "info"])

    def evaluate(self, profiles: pd.DataFrame, *, stage: str = "initial") -> EvaluatedCalls:
        cutoffs = _core("cutoffs")
        table = self._cutoff_table()
        steps = []
        if self.second_tier is not None:
            apply = _core("cutoffs.second_tier.apply")
            steps.append(apply.second_tier_step(self.second_tier))
        calls = cutoffs.evaluate(profiles, cutoffs.default_rules(), table,
                                 stage="duplicate_mean" if stage == "duplicate" else "initial",
                                 postprocess=steps)
        rules_version = str(getattr(cutoffs.default_rules(), "version", ""))
        version = (str(calls["cutoff_version"].iloc[0]) if len(calls)
                   else str(getattr(table, "version", "") or rules_version))
        model_version = self.second_tier.version if self.second_tier is not None else ""
        return EvaluatedCalls(calls=calls, cutoff_version=version, model_version=model_version)
