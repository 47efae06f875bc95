"""``nbs simulate plate --format FMT --seed S --out FILE [--truth truth.csv] [--plate-id P]``:
a virtual instrument's 96-well plate (blanks, low/high controls, 89 simulated patients) written in
an instrument format, with the concentrations it was made from. With ``--lims-cards FILE
--submitter CODE`` the patients carry card barcodes of the laboratory's barcode rule
(``NBS_BARCODE_RULE``) and their cards are written as a card CSV the LIMS imports
(docs/hl7.md "A submitter's CSV"), collected two days before now, so that the plate can be
taken through the LIMS: import the cards, then upload the plate.

Public names: ``plate_command``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import typer

from instruments.virtual import PLATE_FORMATS, simulate_plate, write_plate
from msms import csvsafe
from msms.errors import DataError
from msms.methods import load_method, packaged_methods

#: Patients on a simulated plate (``instruments.virtual``'s layout).
_PATIENTS = 89

__all__ = ["plate_command"]


def plate_command(
    fmt: str = typer.Option(..., "--format", help=f"one of: {', '.join(PLATE_FORMATS)}"),
    seed: int = typer.Option(..., "--seed", min=0, help="random seed: same seed, same file"),
    out: Path = typer.Option(..., "--out", help="file to write (mzML: a .zip, or a directory)"),
    truth: Path = typer.Option(None, "--truth", help="also write the true concentrations per "
                               "well (CSV)"),
    plate_id: str = typer.Option(None, "--plate-id", help="plate id (default VP + seed)"),
    cards: Path = typer.Option(None, "--cards", help="also write the patients' card data "
                               "(specimen_id and covariates) for nbs quantify --card-data"),
    method_name: str = typer.Option(
        "nonderivatized", "--method",
        help=f"method whose transitions and IS the plate uses: {' or '.join(packaged_methods())}"
             ", or METHOD.toml"),
    disorder_rate: float = typer.Option(
        None, "--disorder-rate", min=0.0, max=1.0,
        help="fraction of affected patients (default: birth prevalence)"),
    lims_cards: Path = typer.Option(
        None, "--lims-cards", help="also write the patients' cards as a card CSV the LIMS "
        "imports (the Accession page or POST /api/v1/hl7/cards); the wells then carry card "
        "barcodes of the laboratory's barcode rule"),
    submitter: str = typer.Option(None, "--submitter", help="the submitter code the cards "
                                  "name (with --lims-cards; the demo's are CITY-MAT, NORTH-GEN "
                                  "and RIVER-CHC)"),
    first_card: int = typer.Option(
        None, "--first-card", min=0, max=99_999_910,
        help="number of the first card (8 digits before the check digit; default from the "
             "seed)"),
) -> None:
    """Simulate a 96-well plate on the virtual instrument and write it in an instrument format."""
    if fmt not in PLATE_FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(PLATE_FORMATS)}",
                                 param_hint="--format")
    if (lims_cards is None) != (submitter is None):
        raise typer.BadParameter("give --lims-cards and --submitter together",
                                 param_hint="--lims-cards")
    cohort = None
    card_rows = None
    if lims_cards is not None and submitter is not None:
        from msms.population import simulate_cohort

        cohort = simulate_cohort(_PATIENTS, seed=seed, disorder_rate=disorder_rate)
        first = first_card if first_card is not None else 50_000_000 + 100 * (seed % 490_000)
        card_rows = _lims_cards(cohort, submitter, first)
        cohort = cohort.assign(specimen_id=card_rows["barcode"].to_numpy())
    plate = simulate_plate(seed=seed, method=load_method(method_name), plate_id=plate_id,
                           disorder_rate=disorder_rate, cohort=cohort)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_plate(plate, out, format=fmt)
        for path, frame in ((truth, plate.truth), (cards, plate.cards),
                            (lims_cards, card_rows)):
            if path is not None and frame is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                csvsafe.frame_to_csv(frame, path, lineterminator="\n")
    except OSError as exc:
        raise DataError(f"cannot write: {exc.strerror or exc}",
                        file=str(exc.filename or out)) from None
    patients = plate.truth[plate.truth["sample_type"] == "patient"]
    affected = int((patients.get("true_disorder", "") != "").sum()) if len(patients) else 0
    typer.echo(f"plate {plate.run.plate_id} ({fmt}, method {plate.method.label}): "
               f"{len(plate.truth)} wells, {len(patients)} patients ({affected} affected) -> "
               f"{out}" + (f"; truth -> {truth}" if truth else "")
               + (f"; card data -> {cards}" if cards else "")
               + (f"; cards -> {lims_cards}" if lims_cards else ""), err=True)


def _lims_cards(cohort: pd.DataFrame, submitter: str, first: int) -> pd.DataFrame:
    """One card CSV row per simulated baby: a barcode of the laboratory's rule (card number
    ``first`` on), the baby's covariates, collected two days before now at its simulated age,
    and a mother named as in the demo data ("Mother" and the card number), so that pages name
    the baby."""
    from lims.reference import load_barcode_rule
    from lims.settings import get_settings

    rule = load_barcode_rule(get_settings().barcode_rule)
    sent = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)
    rows = []
    for i, row in enumerate(cohort.itertuples(index=False)):
        collected = sent - timedelta(minutes=7 * i)
        birth = collected - timedelta(hours=float(row.age_at_collection_hours))
        weight = int(row.birth_weight_g) if 200 <= row.birth_weight_g <= 7000 else ""
        weeks = (round(float(row.gestational_age_weeks), 1)
                 if 20 <= row.gestational_age_weeks <= 45 else "")
        rows.append({"barcode": rule.make(f"{first + i:08d}"), "submitter": submitter,
                     "collected_at": collected.strftime("%Y-%m-%dT%H:%MZ"),
                     "birth_at": birth.strftime("%Y-%m-%dT%H:%MZ"),
                     "sex": row.sex if row.sex in ("M", "F") else "U",
                     "birth_weight_g": weight, "gestational_age_weeks": weeks,
                     "tpn": int(row.tpn == 1), "transfused": int(row.transfused == 1),
                     "mother_family_name": "Mother", "mother_given_name": f"{first + i}",
                     "mother_id": f"M{first + i}"})
    return pd.DataFrame(rows)
