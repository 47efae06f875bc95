"""The virtual instrument: a simulated 96-well FIA-MS/MS plate, rendered in any format the
readers support, with the truth it was made from.

A plate holds blanks, low and high control materials (at their lot targets) and patients (a
simulated cohort, :func:`msms.population.simulate_cohort`). Every well is spiked with the method's
internal standards; the signals follow isotope dilution (docs/quantitation.md)::

    sensitivity[well, analyte] = IS signal[well, IS] / (IS conc x response factor)
    area = (conc + background) x sensitivity x (1 + analytical noise) + carryover
    is_area = IS signal x spike factor x (1 + IS noise)

where the IS signal of a well carries the shared ionisation / spot factor that the ratio
cancels, so reading and quantifying the file returns the concentrations within the noise of
:class:`InstrumentModel`. Carryover adds a fraction of the previous well's signal (injection
order row by row). Options inject faults for QC tests: control values shifted by some SDs,
internal-standard spikes that failed.

Public names: ``InstrumentModel``, ``SimulatedPlate``, ``plate_layout``, ``simulate_plate``,
``write_plate``, ``read_plate``, ``suffix``, ``PLATE_FORMATS``,
``TRUTH_COLUMNS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from instruments.errors import InstrumentError
from instruments.formats import FormatSpec, Rendering, specs
from instruments.registry import read as registry_read  # registers the formats
from instruments.registry import write as registry_write
from instruments.run import PlateRun, measurements_frame
from instruments.wells import plate_wells
from msms.catalogue import Catalogue, default_catalogue
from msms.methods import Method, default_method
from msms.qc.controls import ControlLots, default_control_lots
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

__all__ = [
    "PLATE_FORMATS",
    "TRUTH_COLUMNS",
    "InstrumentModel",
    "SimulatedPlate",
    "plate_layout",
    "read_plate",
    "simulate_plate",
    "suffix",
    "write_plate",
]

#: Columns of the truth table before the analyte columns (then the cohort's truth columns).
TRUTH_COLUMNS: tuple[str, ...] = ("well", "sample_id", "sample_type", "lot")
_COHORT_TRUTH = ("true_disorder", "fp_mechanism", "severity")

#: The plates the virtual instrument writes, by name: every rendering of every registered format
#: (:class:`instruments.formats.Rendering`), as (format, rendering).
PLATE_FORMATS: dict[str, tuple[FormatSpec, Rendering]] = {
    rendering.name: (spec, rendering) for spec in specs() for rendering in spec.renderings
}


@dataclass(frozen=True)
class InstrumentModel:
    """How the virtual instrument's signals vary (CVs are fractions, log-normal where noted).

    The defaults are within-run precisions typical of FIA-MS/MS screening (estimates, not a
    cited source); they give a median relative error of quantified patient values near 3%.
    """

    #: nominal plateau intensity (counts) of an internal standard
    is_intensity_counts: float = 2.0e5
    #: log-SD of the nominal intensity between IS compounds (ionisation efficiencies differ)
    is_compound_log_sd: float = 0.5
    #: log-SD of the well factor shared by every signal of a well (spot, ion suppression)
    well_log_sd: float = 0.15
    #: independent analytical noise of each internal-standard signal
    is_cv: float = 0.025
    #: independent analytical noise of each analyte signal
    analyte_cv: float = 0.035
    #: chemical background of an analyte transition, as a fraction of its population median
    background_fraction_of_median: float = 0.002
    #: fraction of a well's signal carried into the next injection
    carryover_fraction: float = 5.0e-4


@dataclass(frozen=True)
class SimulatedPlate:
    """A simulated plate: the run to write, the truth, and the patients' card data.

    ``truth`` has ``TRUTH_COLUMNS``, one column per analyte (true µmol/L; controls at their lot
    values, blanks 0) and the cohort's truth columns; ``cards`` has ``specimen_id`` and the
    covariates (docs/architecture.md "Profiles") of the patients.
    """

    run: PlateRun
    truth: pd.DataFrame
    cards: pd.DataFrame
    method: Method
    seed: int


def plate_layout() -> pd.DataFrame:
    """The virtual 96-well plate: ``well, sample_type, role`` in injection order (row by row).

    A01 blank, A02 low control, A03 high control, A04 blank (after the high control: carryover),
    A05..H09 patients (89), H10 low control, H11 high control, H12 blank.
    """
    wells = plate_wells()
    fixed = {"A01": "blank", "A02": "qc_low", "A03": "qc_high", "A04": "blank",
             "H10": "qc_low", "H11": "qc_high", "H12": "blank"}
    types = [fixed.get(w, "patient") for w in wells]
    return pd.DataFrame({"well": wells, "sample_type": types})


def _patients(n: int, seed: int, cohort: pd.DataFrame | None,
              disorder_rate: float | None) -> pd.DataFrame:
    if cohort is None:
        from msms.population import simulate_cohort

        cohort = simulate_cohort(n, seed=seed, disorder_rate=disorder_rate)
    if len(cohort) < n:
        raise InstrumentError(f"the cohort has {len(cohort)} babies; the plate needs {n}",
                              field="cohort")
    return cohort.iloc[:n].reset_index(drop=True)


def simulate_plate(
    *,
    seed: int,
    method: Method | None = None,
    lots: ControlLots | None = None,
    plate_id: str | None = None,
    cohort: pd.DataFrame | None = None,
    disorder_rate: float | None = None,
    model: InstrumentModel | None = None,
    control_shifts: Mapping[str, Mapping[str, float]] | None = None,
    is_failures: Mapping[str, float] | None = None,
    catalogue: Catalogue | None = None,
) -> SimulatedPlate:
    """Simulate one 96-well plate.

    Parameters
    ----------
    seed
        The same seed gives the same plate (and, written, the same bytes).
    method
        The quantitation method whose transitions and internal standards the plate uses
        (default: the packaged non-derivatized method).
    lots
        Control lots; the plate uses the in-use lot of each level (default: packaged lots).
    plate_id
        Default ``VP`` + the seed.
    cohort
        Patients (a :func:`msms.population.simulate_cohort` frame with at least 89 rows);
        default: a cohort drawn with ``seed`` (and ``disorder_rate``).
    model
        The noise model (default :class:`InstrumentModel`).
    control_shifts
        ``{well: {analyte: SDs}}``: the control in that well reads its target shifted by that
        many lot SDs (a systematic error, for QC tests).
    is_failures
        ``{well: factor}``: that well's internal-standard spikes deliver ``factor`` of the
        nominal amount (0.1 = a failed spike), for QC tests.
    catalogue
        The analyte catalogue (default: packaged).

    Returns
    -------
    SimulatedPlate
    """
    method = method or default_method()
    lots = lots or default_control_lots()
    model = model or InstrumentModel()
    catalogue = catalogue or default_catalogue()
    control_shifts = control_shifts or {}
    is_failures = is_failures or {}
    if seed < 0:
        raise InstrumentError("seed must be >= 0", field="seed")
    plate_id = plate_id or f"VP{seed:06d}"
    rng = np.random.Generator(np.random.PCG64(seed))
    layout = plate_layout()
    n_patients = int((layout["sample_type"] == "patient").sum())
    patients = _patients(n_patients, seed, cohort, disorder_rate)
    analytes = list(method.codes)
    missing = [a for a in analytes if a not in patients.columns]
    if missing:
        raise InstrumentError(f"the cohort lacks analyte column(s) {', '.join(missing)}",
                              field="cohort")

    # ---- truth: one row per well ----
    level_lot = {}
    for sample_type, level in (("qc_low", "low"), ("qc_high", "high")):
        in_use = lots.in_use(level)
        if len(in_use) != 1:
            raise InstrumentError(f"need exactly one in-use {level} lot, found {len(in_use)}",
                                  field="lots")
        level_lot[sample_type] = in_use[0]
    truth_rows = []
    patient_iter = iter(range(n_patients))
    for well, sample_type in zip(layout["well"], layout["sample_type"], strict=True):
        if sample_type == "patient":
            i = next(patient_iter)
            row = patients.iloc[i]
            conc = {a: float(row[a]) for a in analytes}
            extra = {c: row[c] for c in _COHORT_TRUTH if c in patients.columns}
            truth_rows.append({"well": well, "sample_id": str(row[PROFILE_ID]),
                               "sample_type": sample_type, "lot": "", **conc, **extra})
        elif sample_type == "blank":
            truth_rows.append({"well": well, "sample_id": f"BLANK-{well}",
                               "sample_type": sample_type, "lot": "",
                               **dict.fromkeys(analytes, 0.0)})
        else:
            lot = level_lot[sample_type]
            shift = control_shifts.get(well, {})
            conc = {}
            for a in analytes:
                target = lot.targets.get(a)
                if target is None:
                    conc[a] = float(catalogue.analyte(a).pop_median_umol_l)
                else:
                    conc[a] = target.mean_umol_l + shift.get(a, 0.0) * target.sd_umol_l
            truth_rows.append({"well": well, "sample_id": lot.lot, "sample_type": sample_type,
                               "lot": lot.lot, **conc})
    truth = pd.DataFrame(truth_rows)
    for column in _COHORT_TRUTH:
        if column in truth:
            truth[column] = truth[column].fillna("").astype(str)
    conc = truth[analytes].to_numpy(float)
    if (conc < 0).any():
        raise InstrumentError("a shifted control value is below zero", field="control_shifts")

    # ---- signals ----
    n_wells = len(truth)
    is_names = list(method.internal_standards)
    is_index = {name: i for i, name in enumerate(is_names)}
    col_is = np.array([is_index[method.analyte(a).internal_standard.name] for a in analytes])
    factor = np.array([method.analyte(a).factor_umol_l for a in analytes])
    medians = np.array([catalogue.analyte(a).pop_median_umol_l for a in analytes])

    compound = model.is_intensity_counts * np.exp(
        rng.normal(0.0, model.is_compound_log_sd, len(is_names)))
    well_factor = np.exp(rng.normal(0.0, model.well_log_sd, n_wells))
    is_signal = well_factor[:, None] * compound[None, :]            # wells x IS
    spike = np.array([is_failures.get(w, 1.0) for w in truth["well"]])
    is_measured = is_signal * spike[:, None] * (1.0 + rng.normal(0.0, model.is_cv,
                                                                  is_signal.shape))
    sensitivity = is_signal[:, col_is] / factor[None, :]             # counts per µmol/L
    background = model.background_fraction_of_median * medians[None, :]
    area = (conc + background) * sensitivity * (1.0 + rng.normal(0.0, model.analyte_cv,
                                                                 conc.shape))
    carried = np.zeros_like(area)
    carried[1:] = model.carryover_fraction * area[:-1]                # rows are in injection order
    area = np.clip(area + carried, 0.0, None)
    is_measured = np.clip(is_measured, 0.0, None)

    # ---- measurements (area + is_area per well and analyte) ----
    wells = truth["well"].to_numpy()
    n_a = len(analytes)
    well_col = np.repeat(wells, n_a)
    analyte_col = np.tile(np.array(analytes, dtype=object), n_wells)
    sample_col = np.repeat(truth["sample_id"].to_numpy(), n_a)
    type_col = np.repeat(truth["sample_type"].to_numpy(), n_a)
    is_per_analyte = is_measured[:, col_is]
    frame = pd.DataFrame({
        "well": np.concatenate([well_col, well_col]),
        "sample_id": np.concatenate([sample_col, sample_col]),
        "sample_type": np.concatenate([type_col, type_col]),
        "analyte": np.concatenate([analyte_col, analyte_col]),
        "value": np.concatenate([area.ravel(), is_per_analyte.ravel()]),
        "unit": "counts",
        "kind": np.repeat(np.array(["area", "is_area"], dtype=object), n_wells * n_a),
    })
    order = {w: i for i, w in enumerate(wells)}
    frame = frame.assign(_w=frame["well"].map(order)).sort_values(["_w", "kind"],
                                                                   kind="stable")
    acquired = dt.datetime(2025, 1, 1, 8, 0) + dt.timedelta(minutes=int(seed % 525_600))
    run_id = f"{plate_id}-{acquired:%Y%m%d%H%M}"
    frame = frame.drop(columns="_w").assign(run_id=run_id, plate_id=plate_id,
                                            source_file="", source_row=0)
    frame["source_row"] = np.arange(1, len(frame) + 1)
    run = PlateRun(
        run_id=run_id, plate_id=plate_id, format="virtual", source_file="",
        metadata={"instrument": "virtual FIA-MS/MS", "acquired_at": acquired.isoformat(),
                  "operator": "virtual", "method": method.label, "seed": str(seed)},
        measurements=measurements_frame(frame),
    )
    cards = (patients[[PROFILE_ID, *COVARIATE_COLUMNS]].copy()
             if all(c in patients for c in COVARIATE_COLUMNS)
             else pd.DataFrame({PROFILE_ID: patients[PROFILE_ID]}))
    truth = truth[[*TRUTH_COLUMNS, *analytes, *[c for c in _COHORT_TRUTH if c in truth]]]
    return SimulatedPlate(run=run, truth=truth, cards=cards.reset_index(drop=True),
                          method=method, seed=seed)


def _spec(fmt: str) -> tuple[FormatSpec, Rendering]:
    try:
        return PLATE_FORMATS[fmt]
    except KeyError:
        raise InstrumentError(f"unknown plate format {fmt!r}; the virtual instrument writes "
                              f"{', '.join(PLATE_FORMATS)}", field="format") from None


def suffix(fmt: str) -> str:
    """The usual file suffix of a plate format (``.zip`` for mzML)."""
    return _spec(fmt)[1].suffix


def write_plate(plate: SimulatedPlate, dest: str | Path, *, format: str) -> None:
    """Write the plate in one of ``PLATE_FORMATS`` through :func:`instruments.write`."""
    spec, rendering = _spec(format)
    options = dict(rendering.options)
    if spec.uses_transitions:
        options["transitions"] = plate.method
    registry_write(plate.run, dest, format=spec.name, **options)


def read_plate(source: str | Path, *, format: str, method: Method | None = None) -> PlateRun:
    """Read a plate the virtual instrument wrote (mzML needs the method's transitions)."""
    spec, rendering = _spec(format)
    return registry_read(source, format=spec.name, transitions=method or default_method(),
                         profile=rendering.options.get("profile"))
