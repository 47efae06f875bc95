"""The screening pipeline, built once from the settings and run by every entry point.

An instrument file is read (``instruments.read``), quantified through its internal standards
(``msms.quantify``) and checked (``msms.qc.plate.check_plate``, with the control history and
the run's date, so each control lot's expiry is checked); profiles are evaluated
(``cutoffs.evaluate``) with the second tier as a post-processing step when a model is
configured. ``nbs quantify``, ``nbs evaluate``, ``nbs ingest``, ``POST /runs``, the demo and
the benchmarks all run a ``ScreeningPipeline`` (docs/architecture.md "Pipeline").

``ScreeningPipeline.from_settings(settings)`` reads what the settings name once: the cutoff
table ``NBS_CUTOFFS`` and the second-tier model ``NBS_SECOND_TIER_MODEL``; a file that does
not read raises ``ConfigurationError`` naming the setting, so the service does not start with
it. The command line passes its options instead (``--cutoffs``, ``--second-tier``, ...).

The LIMS stores what the pipeline returns: ``ScreenedPlate.wells`` (every well's concentration,
the frame ``nbs quantify --concentrations`` writes) and ``ScreenedPlate.profiles`` (one row per
specimen, the mean of its wells, the frame ``nbs quantify --out`` writes). The ingest service is
written against the ``Screening`` protocol, which ``ScreeningPipeline`` implements; tests of
the persistence rules may give a small implementation of their own.

Public names: ``ScreeningPipeline``, ``Screening``, ``ScreenedPlate``, ``EvaluatedCalls``,
``WELL_COLUMNS``, ``well_means``, ``latest_run_wells``, ``profiles_from_wells``,
``card_covariates``, ``with_covariates``, ``run_date``, ``Reflex``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pandas as pd

import instruments
from cutoffs import (
    CutoffTable,
    RuleSet,
    default_reference,
    default_rules,
    load_cutoffs,
    reference_quantiles,
    score,
)
from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.reflex.calibrate import read_calibration
from cutoffs.reflex.decide import LITERATURE, Calibration
from cutoffs.reflex.rules import ReflexRules, default_reflex_rules, reflex_version
from cutoffs.scores import Reference
from instruments import ArchiveLimits, PlateRun, Source
from lims.errors import ConfigurationError
from lims.settings import Settings, load_configured_catalogue
from lims.vocabulary import QcDecision, Stage
from msms.catalogue import Catalogue
from msms.errors import MsmsError
from msms.methods import Method, default_method
from msms.qc import ControlLots, QCRules
from msms.qc.internal_standard import well_signal
from msms.qc.plate import PlateQC, check_plate
from msms.quantify import QuantResult, quantify
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

if TYPE_CHECKING:
    from cutoffs.second_tier.model_file import SecondTierModel
    from lims.models import Infant, Specimen

__all__ = [
    "WELL_COLUMNS",
    "EvaluatedCalls",
    "Reflex",
    "ScreenedPlate",
    "Screening",
    "ScreeningPipeline",
    "card_covariates",
    "latest_run_wells",
    "profiles_from_wells",
    "run_date",
    "well_means",
    "with_covariates",
]

#: The columns of a plate's wells the LIMS stores: one row per well and analyte, µmol/L blood.
WELL_COLUMNS: tuple[str, ...] = ("well", "sample_id", "sample_type", "analyte", "conc_umol_l")
_T = TypeVar("_T")


@dataclass(frozen=True)
class ScreenedPlate:
    """A plate read, quantified and checked: what the LIMS stores for a run.

    ``wells`` holds at least ``WELL_COLUMNS`` (a value that is not reportable is NaN);
    ``profiles`` one row per patient specimen (``specimen_id`` then one column per analyte);
    ``is_signal`` each well's internal-standard signal
    (``msms.qc.internal_standard.WELL_SIGNAL_COLUMNS``; None when the screening gives none).
    """

    plate_id: str
    instrument_run_id: str
    format: str
    wells: pd.DataFrame
    profiles: pd.DataFrame
    qc_decision: QcDecision
    qc_reasons: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    is_signal: pd.DataFrame | None = None


@dataclass(frozen=True)
class EvaluatedCalls:
    """Calls (docs/architecture.md "Calls") for a profiles table, and the versions that made
    them (also when no call was made)."""

    calls: pd.DataFrame
    cutoff_version: str
    model_version: str = ""


@dataclass(frozen=True)
class Reflex:
    """The reflex second tier the LIMS applies (docs/second_tier.md "In the LIMS"): the rules,
    the calibrated levels (``LITERATURE``: the rules' own) and the version every decision
    records."""

    rules: ReflexRules
    calibration: Calibration
    version: str

    @classmethod
    def literature(cls, rules: ReflexRules | None = None) -> Reflex:
        rules = rules or default_reflex_rules()
        return cls(rules, LITERATURE, reflex_version(rules.version, "literature"))

    @classmethod
    def from_file(cls, path: Path, rules: ReflexRules | None = None) -> Reflex:
        """Calibrated levels (``cutoffs.reflex.calibrate.write_calibration``); refused when
        they were calibrated on other rules."""
        rules = rules or default_reflex_rules()
        calibrated = read_calibration(path)
        if calibrated.rules_sha256 != rules.sha256:
            raise CutoffError(
                f"calibrated on reflex rules {calibrated.rules_version} "
                f"({calibrated.rules_sha256[:8]}), not on {rules.version} ({rules.sha256[:8]})",
                file=str(path))
        return cls(rules, calibrated.calibration, calibrated.version)

    @property
    def genotyped(self) -> bool:
        """Whether the laboratory imports genotypes: a group whose rules read one awaits them
        (``with_genotypes``)."""
        return any(g.genotyped and g.await_assays for g in self.rules.groups)

    def with_genotypes(self) -> Reflex:
        """This reflex second tier in a laboratory that imports genotypes
        (``NBS_REFLEX_GENOTYPES``): a group with genotype assays (FAO) waits for them on the
        reflex worklist; the version says so (``... genotyped``)."""
        return Reflex(self.rules.awaiting_genotypes(), self.calibration,
                      f"{self.version} genotyped")


class Screening(Protocol):
    """What the LIMS needs from the screening pipeline. ``reflex``: the reflex second tier
    the LIMS applies (None: off)."""

    reflex: Reflex | None

    def screen(self, data: bytes, name: str, *, control_history: pd.DataFrame,
               plate_map: Source | None = None) -> ScreenedPlate:
        """Read ``data`` (the bytes of the file ``name``; ``plate_map`` the puncher's map of
        the plate), quantify it and check the plate against ``control_history``."""
        ...

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        """The calls for ``profiles`` (docs/architecture.md "Profiles"): the flagged ones, or
        with ``include_normal`` every disorder's (a repeat card's reflex decision reads them)."""
        ...

    def score(self, profiles: pd.DataFrame, markers: list[str] | None = None) -> pd.DataFrame:
        """Covariate-adjusted percentile and multiple of the median of each marker (of
        ``markers`` only when given)."""
        ...

    def quantiles(self, profiles: pd.DataFrame, markers: list[str],
                  probs: tuple[float, ...]) -> pd.DataFrame:
        """The values at ``probs`` of each marker among babies like each specimen, from the
        reference ``score`` uses (``cutoffs.scores.reference_quantiles``)."""
        ...


def run_date(run: PlateRun) -> dt.date | None:
    """The day the plate was acquired (the reader's ``acquired_at``), None when unknown."""
    acquired = run.metadata.get("acquired_at", "")
    try:
        return pd.Timestamp(acquired).date() if acquired else None
    except ValueError:
        return None


def well_means(wells: pd.DataFrame) -> pd.Series:
    """The mean of each specimen's wells per analyte (``sample_id``, ``analyte`` ->
    ``conc_umol_l``; NaN where no well has a value), as ``msms.quantify`` averages a plate's
    replicate wells: for wells the LIMS holds apart from their plate (held wells, stored
    results)."""
    return wells.groupby(["sample_id", "analyte"], sort=False)["conc_umol_l"].mean()


def latest_run_wells(results: pd.DataFrame) -> pd.DataFrame:
    """Second-tier results (``specimen_id``, ``run_id``, ``assay``, ``conc_umol_l``, ...) kept
    for each specimen and assay from the latest run that measured it (wells without a value
    dropped): what a card is decided on and what its page shows."""
    results = results.dropna(subset=["conc_umol_l"])
    if not len(results):
        return results
    latest = results.groupby(["specimen_id", "assay"])["run_id"].transform("max")
    return results[results["run_id"] == latest]


def profiles_from_wells(wells: pd.DataFrame) -> pd.DataFrame:
    """One row per specimen (``specimen_id``, then one column per analyte): ``well_means``."""
    values = well_means(wells).unstack("analyte")
    values.columns.name = None
    return values.rename_axis(PROFILE_ID).reset_index()


def card_covariates(specimen: Specimen, infant: Infant) -> dict[str, Any]:
    """A card's covariates as a profile carries them (docs/architecture.md "Profiles")."""
    age_h = (specimen.collected_at - infant.birth_at).total_seconds() / 3600
    return {"birth_weight_g": specimen.birth_weight_g,
            "gestational_age_weeks": specimen.gestational_age_weeks,
            "age_at_collection_hours": round(age_h, 2), "sex": infant.sex,
            "tpn": int(specimen.tpn), "transfused": int(specimen.transfused)}


def with_covariates(profiles: pd.DataFrame,
                    covariates: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """``profiles`` of the specimens in ``covariates`` (by barcode), their covariates replaced
    by the LIMS's (``card_covariates``), in the column order of a profiles table."""
    ids = profiles[PROFILE_ID].astype(str).str.strip()
    mine = profiles[ids.isin(list(covariates)).to_numpy()]
    cards = pd.DataFrame([{PROFILE_ID: barcode, **values}
                          for barcode, values in covariates.items()],
                         columns=[PROFILE_ID, *COVARIATE_COLUMNS])
    values = mine.drop(columns=[c for c in COVARIATE_COLUMNS if c in mine.columns])
    values = values.assign(**{PROFILE_ID: ids[mine.index].to_numpy(dtype=object)})
    return cards.merge(values, on=PROFILE_ID, how="left")


def _load_model(path: Path, catalogue: Catalogue | None) -> SecondTierModel:
    """Read a second-tier model file (its modules load only when a model is used: they bring
    the model-training libraries with them)."""
    from cutoffs.second_tier.model_file import load_model

    return load_model(path, catalogue=catalogue)


def _second_tier_step(model: SecondTierModel, source: str | None) -> Callable[..., Any]:
    from cutoffs.second_tier.apply import second_tier_step

    return second_tier_step(model, source=source)


def _configured(setting: str, path: Path, load: Callable[[Path], _T]) -> _T:
    """``load(path)``; an error names the setting (or option) that named the file."""
    try:
        return load(path)
    except MsmsError as exc:
        raise ConfigurationError(f"{setting}={path}: {exc}") from None


class ScreeningPipeline:
    """read -> quantify -> plate QC -> evaluate -> second tier, with what it was built with.

    ``cutoffs`` None: the rules' cited literature levels (and the covariate model for scores);
    ``second_tier`` None: no second tier. ``qc_rules``, ``control_lots`` None: the packaged
    ones. ``format`` is the instrument format files are read as (``auto``: detected);
    ``archive_limits`` the size limits of a plate read from a zip or directory (None: the
    defaults of ``instruments.archive``).
    """

    def __init__(self, *, method: Method | None = None, rules: RuleSet | None = None,
                 cutoffs: CutoffTable | None = None, second_tier: SecondTierModel | None = None,
                 qc_rules: QCRules | None = None, control_lots: ControlLots | None = None,
                 catalogue: Catalogue | None = None, format: str = "auto",
                 prefer: str = "method", archive_limits: ArchiveLimits | None = None,
                 reflex: Reflex | None = None) -> None:
        self.method = method or default_method()
        self.rules = rules or default_rules()
        self.cutoffs = cutoffs
        self.second_tier = second_tier
        self.qc_rules = qc_rules
        self.control_lots = control_lots
        self.catalogue = catalogue
        self.format = format
        self.prefer = prefer
        self.archive_limits = archive_limits
        self.reflex = reflex

    @classmethod
    def from_settings(cls, settings: Settings, *, cutoffs: Path | None = None,
                      second_tier: Path | None = None, catalogue: Catalogue | None = None,
                      **options: Any) -> ScreeningPipeline:
        """The pipeline the settings configure: ``NBS_CUTOFFS`` and ``NBS_SECOND_TIER_MODEL``
        read now (``cutoffs`` and ``second_tier`` name other files, as a command's options do),
        with the configured catalogue; ``options`` are passed to the constructor.

        Raises
        ------
        ConfigurationError
            Naming the setting (or option) when its file cannot be read or does not fit.
        """
        catalogue = catalogue or load_configured_catalogue(settings)
        table_file = cutoffs or settings.cutoffs
        model_file = second_tier or settings.second_tier_model
        table = None if table_file is None else _configured(
            "--cutoffs" if cutoffs else "NBS_CUTOFFS", table_file, load_cutoffs)
        model = None if model_file is None else _configured(
            "--second-tier" if second_tier else "NBS_SECOND_TIER_MODEL", model_file,
            lambda path: _load_model(path, catalogue))
        options.setdefault("archive_limits", settings.archive_limits())
        if settings.reflex_calibration is not None:
            options.setdefault("reflex", _configured(
                "NBS_REFLEX_CALIBRATION", settings.reflex_calibration, Reflex.from_file))
        elif settings.reflex or settings.reflex_genotypes:
            options.setdefault("reflex", Reflex.literature())
        if settings.reflex_genotypes and options.get("reflex") is not None:
            options["reflex"] = options["reflex"].with_genotypes()
        return cls(cutoffs=table, second_tier=model, catalogue=catalogue, **options)

    def with_second_tier(self, path: Path, *, source: str) -> ScreeningPipeline:
        """This pipeline with the second-tier model in ``path`` instead (the model registry's
        active model, docs/followup.md "Model registry"), read as ``from_settings`` reads
        ``NBS_SECOND_TIER_MODEL``: a file that does not read or fit raises
        ``ConfigurationError`` naming ``source``."""
        model = _configured(source, path, lambda p: _load_model(p, self.catalogue))
        return ScreeningPipeline(method=self.method, rules=self.rules, cutoffs=self.cutoffs,
                                 second_tier=model, qc_rules=self.qc_rules,
                                 control_lots=self.control_lots, catalogue=self.catalogue,
                                 format=self.format, prefer=self.prefer,
                                 archive_limits=self.archive_limits, reflex=self.reflex)

    # ---- the plate -------------------------------------------------------------------------

    def read(self, source: Any, *, name: str | None = None, profile: str | None = None,
             plate_map: Path | Source | None = None) -> PlateRun:
        """Read an instrument file; an mzML plate is matched against the method's transitions
        (unless a reader profile names its own)."""
        return instruments.read(source, format=self.format, profile=profile, name=name,
                                plate_map=plate_map, limits=self.archive_limits,
                                transitions=None if profile else self.method)

    def quantify(self, run: PlateRun, *,
                 card_data: pd.DataFrame | Path | None = None) -> QuantResult:
        """Concentrations through the internal standards, and the profiles."""
        return quantify(run.measurements, self.method, card_data=card_data,
                        rules=self.qc_rules, prefer=self.prefer, catalogue=self.catalogue)

    def check(self, run: PlateRun, quantified: QuantResult, *,
              history: pd.DataFrame | None = None) -> PlateQC:
        """Plate QC over this run and the control ``history`` (oldest first), on the run's
        date."""
        return check_plate(quantified, lots=self.control_lots,
                           history=history if history is not None and len(history) else None,
                           rules=self.qc_rules, run_date=run_date(run),
                           catalogue=self.catalogue)

    def screen(self, data: bytes, name: str, *, control_history: pd.DataFrame,
               plate_map: Source | None = None) -> ScreenedPlate:
        """read -> quantify -> check, of the uploaded bytes under the uploaded file's name (so
        errors name the user's file)."""
        if plate_map is not None:  # read with the plate size of the profile reading the export
            plate_map = Source(Path(plate_map.name).name or "plate-map", plate_map.data)
        run = self.read(data, name=Path(name).name or "upload", plate_map=plate_map)
        from lims.lengths import check_plate_lengths  # the ORM: not for evaluating profiles

        check_plate_lengths(Path(name).name or "upload", run.plate_id, run.run_id,
                            run.measurements)
        quantified = self.quantify(run)
        decision = self.check(run, quantified, history=control_history).decision
        return ScreenedPlate(
            plate_id=str(quantified.plate_id or run.plate_id),
            instrument_run_id=str(run.run_id), format=str(run.format),
            wells=quantified.concentrations, profiles=quantified.profiles,
            qc_decision=QcDecision(decision.status),
            qc_reasons=(*decision.reasons, *decision.warnings),
            issues=tuple(str(i) for i in run.issues if i.severity != "info"),
            is_signal=well_signal(quantified.is_check, quantified.method))

    # ---- the profiles ----------------------------------------------------------------------

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False, source: str | None = None) -> EvaluatedCalls:
        """The calls for ``profiles``, then the second tier's (``source`` names the file in
        errors)."""
        steps = [] if self.second_tier is None else [
            _second_tier_step(self.second_tier, source)]
        calls = evaluate(profiles, self.rules, self.cutoffs, include_normal=include_normal,
                         stage=stage, reference=self.reference, postprocess=steps,
                         file=source)
        version = (str(calls["cutoff_version"].iloc[0]) if len(calls)
                   else (self.cutoffs.version if self.cutoffs is not None
                         else self.rules.version))
        return EvaluatedCalls(calls, version,
                              "" if self.second_tier is None else self.second_tier.version)

    @cached_property
    def reference(self) -> Reference:
        """What scores are relative to: the cutoff table (the covariate model for markers and
        strata it lacks), else the covariate model of population estimates."""
        return default_reference(self.cutoffs)

    def score(self, profiles: pd.DataFrame, markers: list[str] | None = None, *,
              rows: Any = None) -> pd.DataFrame:
        """Covariate-adjusted percentile and multiple of the median of each specimen's markers
        (``markers``: those only, default the reference's; ``rows``: positions of the
        specimens to score; default all)."""
        return score(profiles, self.reference, markers, rows=rows)

    def quantiles(self, profiles: pd.DataFrame, markers: list[str],
                  probs: tuple[float, ...]) -> pd.DataFrame:
        """The reference distribution of ``markers`` among babies like each specimen: the
        values at ``probs`` (fractions) of the reference ``score`` uses."""
        return reference_quantiles(profiles, self.reference, markers, probs)

    def prepare(self) -> None:
        """Load now what the first plate would otherwise load (the covariate model behind the
        scores and the reasons), so that it does not pay for it."""
        _ = self.reference
