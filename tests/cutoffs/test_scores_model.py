"""The default covariate model for scores: babies like this one without a laboratory table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cutoffs.covariate_model import (
    COVARIATE_MODEL_TOML,
    DEFAULT_N,
    DEFAULT_SEED,
    FORMAT,
    build_covariate_model,
    default_covariate_model,
    load_covariate_model,
    write_covariate_model,
)
from cutoffs.derive import derive_cutoffs
from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.scores import (
    FallbackReference,
    ModelReference,
    catalogue_reference,
    default_reference,
    model_reference,
    score,
)
from msms.population import default_params, simulate_cohort, split_truth
from msms.population.analytes import effect_matrix
from tests.cutoffs.builders import MEDIANS, profiles

MODEL = default_covariate_model()
MODEL_NAME = f"covariate model {MODEL.version} (population-model estimates)"
TERM = {"birth_weight_g": 3400, "gestational_age_weeks": 39.5, "age_at_collection_hours": 36.0,
        "sex": "F", "tpn": 0, "transfused": 0}


def _babies(value: dict[str, float], *covariates: dict[str, object]) -> pd.DataFrame:
    """One profile per covariate set, every one with the same analyte values."""
    frame = profiles(*([value] * len(covariates)))
    for column in TERM:
        frame[column] = [c.get(column, TERM[column]) for c in covariates]
    return frame


def _one(scores: pd.DataFrame, marker: str) -> pd.DataFrame:
    return scores[scores["marker"] == marker].reset_index(drop=True)


PRETERM_LBW_TPN = {"birth_weight_g": 1200, "gestational_age_weeks": 30.0, "tpn": 1}


@pytest.mark.parametrize(("marker", "other"), [
    # Zhejiang: LBW babies have much higher Phe, Tyr, Met, Arg, C3, C5 (effects.toml)
    ("Phe", PRETERM_LBW_TPN),
    ("Phe", {"birth_weight_g": 1900, "gestational_age_weeks": 33.0}),
    ("Tyr", {"birth_weight_g": 1900, "gestational_age_weeks": 33.0}),
    ("C3", {"birth_weight_g": 1900, "gestational_age_weeks": 33.0}),
    ("Met", {"tpn": 1}),  # TPN raises amino acids
    ("Xle", {"tpn": 1}),
    ("Phe", {"age_at_collection_hours": 14.0}),  # Peng 2021: Phe higher before 24 h
])
def test_same_value_is_less_unusual_where_the_literature_says_it_runs_high(marker, other):
    value = {marker: MEDIANS[marker] * 1.8}
    scores = _one(score(_babies(value, {}, other)), marker)
    term, baby = scores.itertuples()
    assert baby.percentile < term.percentile and baby.mom < term.mom
    assert term.value == baby.value
    assert term.reference == baby.reference == MODEL_NAME


def test_low_birth_weight_lowers_c0_so_the_same_value_is_more_unusual_upwards():
    # Zhejiang: LBW babies have lower C0 and C16
    scores = _one(score(_babies({"C0": MEDIANS["C0"]}, {}, PRETERM_LBW_TPN)), "C0")
    term, baby = scores.itertuples()
    assert baby.percentile > term.percentile and baby.mom > term.mom


def test_the_preterm_tpn_baby_is_named_with_what_the_model_used():
    scores = _one(score(_babies({"Phe": 120.0}, {}, PRETERM_LBW_TPN)), "Phe")
    term, baby = scores.itertuples()
    assert term.stratum == "BW=3400 g; GA=39.5 w; age=36 h; sex=F; TPN=0"
    assert baby.stratum == "BW=1200 g; GA=30 w; age=36 h; sex=F; TPN=1"
    assert term.reference_n == 0  # not a laboratory population
    assert "popmodel-" in term.reference and "estimates" in term.reference


def test_a_missing_birth_weight_is_imputed_from_gestational_age():
    frame = _babies({"Phe": 120.0}, {"gestational_age_weeks": 30.0, "birth_weight_g": None},
                    {"gestational_age_weeks": 30.0, "birth_weight_g": 1450},
                    {"gestational_age_weeks": None, "birth_weight_g": None,
                     "age_at_collection_hours": None, "sex": None, "tpn": None})
    scores = _one(score(frame), "Phe")
    imputed, recorded, unknown = scores.itertuples()
    assert imputed.stratum.startswith("BW~1450 g (from GA); GA=30 w")
    assert imputed.percentile == pytest.approx(recorded.percentile)
    assert unknown.stratum == "BW=?; GA=?; age=?; sex=?; TPN=?"
    assert 0 < unknown.percentile < 100  # population means of the terms


def test_ratios_get_scores_from_the_model():
    median = profiles({}, {"C8": MEDIANS["C8"] * 12}, **TERM)
    scores = score(median, markers=["Phe/Tyr", "C8/C10", "C3/C2", "(C16+C18:1)/C2", "C8"])
    assert scores["reference"].eq(MODEL_NAME).all()
    assert scores["percentile"].notna().all() and scores["mom"].notna().all()
    at_medians = scores[scores["specimen_id"] == "S001"]
    assert at_medians["percentile"].between(15, 85).all()
    high = scores[(scores["specimen_id"] == "S002") & (scores["marker"] == "C8/C10")]
    assert high["percentile"].iloc[0] >= 99.9 and high["mom"].iloc[0] > 8


def test_default_markers_are_the_analytes_and_ratios_the_profile_allows():
    frame = profiles({}, **TERM)[["specimen_id", *TERM, "Phe", "Tyr", "C8"]]
    assert set(score(frame)["marker"]) == {"Phe", "Tyr", "C8", "Phe/Tyr"}


def test_calls_report_model_scores_for_analytes_and_ratios():
    calls = evaluate(profiles({"C8": 0.9, "C10": 0.1}, **TERM))
    mcad = calls[calls["disorder"] == "MCAD"]["reasons"].iloc[0]
    assert "C8=0.9>" in mcad and "C8/C10=9>" in mcad
    assert mcad.count("MoM") >= 2  # the ratio is scored too


def test_effects_are_the_population_models_cited_effects():
    params = default_params()
    effects = effect_matrix(params)
    names = [t.name for t in params.terms]
    for term_index, term in enumerate(MODEL.terms):
        k = names.index(term.name)
        for code in ("Phe", "C0", "C8", "Xle"):
            assert MODEL.markers[code].effects[term_index] == pytest.approx(
                effects[k, params.index(code)], rel=1e-4, abs=1e-6)
    # a simple ratio moves by the difference of its parts
    phe, tyr, ratio = (MODEL.markers[m].effects for m in ("Phe", "Tyr", "Phe/Tyr"))
    assert ratio == pytest.approx(tuple(a - b for a, b in zip(phe, tyr, strict=True)),
                                  rel=1e-3, abs=1e-6)


def test_within_low_birth_weight_and_tpn_babies_the_model_keeps_the_tails_near_one_percent():
    cohort, _ = split_truth(simulate_cohort(30_000, seed=11, disorder_rate=0.0))
    small = (cohort["birth_weight_g"] < 2500).to_numpy() | (cohort["tpn"] == 1).to_numpy()
    assert small.sum() > 1000
    for marker in ("Phe", "Met", "C0", "C16"):
        model = _one(score(cohort, markers=[marker]), marker)["percentile"].to_numpy()
        alone = _one(score(cohort, catalogue_reference(), [marker]), marker)[
            "percentile"].to_numpy()
        model_tails = np.mean(model[small] >= 99) + np.mean(model[small] <= 1)
        alone_tails = np.mean(alone[small] >= 99) + np.mean(alone[small] <= 1)
        assert model_tails < 0.045, marker
        assert alone_tails > 3 * model_tails, marker
        assert np.mean(model >= 99) == pytest.approx(0.01, abs=0.004), marker


def test_a_laboratory_table_takes_precedence_and_the_model_fills_its_gaps():
    cohort, truth = split_truth(simulate_cohort(6000, seed=12))
    table = derive_cutoffs(cohort[truth["true_disorder"].eq("").to_numpy()],
                           markers=["Phe", "C8"], min_stratum_n=2000, n_bootstrap=10)
    frame = profiles({"Phe": table.entry("Phe").median}, **TERM)
    scores = score(frame, table, ["Phe", "C8/C10"])
    phe, ratio = scores.itertuples()
    assert phe.reference == f"cutoffs {table.version}" and phe.reference_n > 2000
    assert phe.stratum == "tpn=no&birth_weight=>=2500"  # the table's own strata
    assert 25 < phe.percentile < 75
    assert ratio.reference == MODEL_NAME and ratio.stratum.startswith("BW=3400 g")
    reference = default_reference(table)
    assert isinstance(reference, FallbackReference)
    assert reference.name == f"cutoffs {table.version}, else {MODEL_NAME}"
    assert isinstance(default_reference(), ModelReference)
    assert model_reference().name == MODEL_NAME


def test_a_marker_no_reference_knows_gets_no_score_and_no_reference_name():
    bound = model_reference().bind(profiles({}, **TERM))
    got = bound.scores("Phe/Met", np.array([1.0]), np.array([0]))
    assert math.isnan(got.percentile[0]) and got.reference[0] == "" and got.stratum[0] == ""


def test_the_packaged_model_says_where_it_comes_from():
    assert MODEL.file == str(COVARIATE_MODEL_TOML)
    provenance = MODEL.provenance
    assert provenance["generator"] == f"nbs cutoffs covariate-model --n {DEFAULT_N} --seed " \
                                      f"{DEFAULT_SEED}"
    assert provenance["n"] == DEFAULT_N and "estimates" in provenance["status"]
    assert "effects 2026.1" in provenance["population_model"]
    text = COVARIATE_MODEL_TOML.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("# Covariate model") and "ESTIMATES" in text
    # every catalogue analyte and ratio is modelled
    assert {"Phe", "C8", "C26:0-LPC", "Phe/Tyr", "C8/C10", "C0/(C16+C18)"} <= set(MODEL.markers)


def test_round_trip(tmp_path: Path):
    path = write_covariate_model(MODEL, tmp_path / "model.toml")
    again = load_covariate_model(path)
    assert again.version == MODEL.version and again.terms == MODEL.terms
    for name, entry in MODEL.markers.items():
        assert again.markers[name].quantiles == pytest.approx(entry.quantiles, rel=1e-9)
        assert again.markers[name].effects == entry.effects


def test_a_small_regeneration_agrees_with_the_packaged_model():
    small = build_covariate_model(n=20_000, seed=5, markers=["Phe", "C8", "Phe/Tyr"])
    assert list(small.markers) == ["Phe", "C8", "Phe/Tyr"]
    for name, entry in small.markers.items():
        packaged = MODEL.markers[name]
        assert entry.median == pytest.approx(packaged.median, rel=0.03), name
        assert entry.effects == pytest.approx(packaged.effects, rel=1e-3, abs=1e-6), name
        assert entry.quantiles[-3] == pytest.approx(packaged.quantiles[-3], rel=0.15), name
    assert small.version != MODEL.version


@pytest.mark.slow
def test_regenerating_with_the_recorded_size_and_seed_reproduces_the_packaged_model():
    again = build_covariate_model(n=DEFAULT_N, seed=DEFAULT_SEED)
    assert again.version == MODEL.version
    assert list(again.markers) == list(MODEL.markers)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = COVARIATE_MODEL_TOML.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(("old", "new", "field", "shown"), [
    ('name = "Phe"', 'name = "Phx"', "marker[", 'name = "Phx"'),
    ('name = "Phe"', 'name = "PHE"', "marker[", 'name = "PHE"'),
    (f'format = "{FORMAT}"', 'format = "other/1"', "format", "format ="),
    ("population_mean = ", "population_mean = 'x' #", "term[0].population_mean",
     "population_mean = 'x'"),
])
def test_a_broken_model_file_names_file_line_and_field(tmp_path, old, new, field, shown):
    path = _broken(tmp_path, old, new)
    with pytest.raises(CutoffError) as info:
        load_covariate_model(path)
    assert info.value.file == str(path) and info.value.field.startswith(field)
    assert info.value.line == _line_of(path, shown)


def test_quantiles_must_rise(tmp_path: Path):
    text = COVARIATE_MODEL_TOML.read_text(encoding="utf-8")
    start = text.index('name = "C8"')
    grid_at = text.index("quantiles = [", start)
    end = text.index("]", grid_at)
    values = text[grid_at + len("quantiles = ["):end].split(", ")
    values[3], values[4] = values[4], values[3]
    path = tmp_path / "model.toml"
    path.write_text(text[:grid_at] + "quantiles = [" + ", ".join(values) + text[end:],
                    encoding="utf-8")
    if values[3] == values[4]:
        pytest.skip("tied grid points")
    with pytest.raises(CutoffError, match="non-decreasing") as info:
        load_covariate_model(path)
    assert info.value.field.endswith(".quantiles")
    assert info.value.line == text[:grid_at].count("\n") + 1


@pytest.mark.parametrize(("column", "value"), [("sex", "X"), ("tpn", 2), ("birth_weight_g", -5)])
def test_bad_covariates_are_rejected_naming_line_and_field(column, value):
    frame = profiles({}, {}, {}, **TERM)
    frame[column] = frame[column].astype(object)
    frame.loc[2, column] = value
    frame.attrs["source_file"] = "plate.csv"
    with pytest.raises(CutoffError) as info:
        score(frame, markers=["Phe"])
    assert (info.value.file, info.value.line, info.value.field) == ("plate.csv", 4, column)
