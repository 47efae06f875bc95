"""The population model: parameters, determinism, table contract and false-positive mechanisms
(small cohorts; the 200,000-baby checks are in test_population_cohort.py)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msms.catalogue import default_catalogue
from msms.errors import DataError
from msms.population import (
    FP_MECHANISMS,
    MECHANISM_SEPARATOR,
    SEVERITIES,
    SIMULATED_DISORDERS,
    TRUTH_COLUMNS,
    default_params,
    load_params,
    simulate_cohort,
    split_truth,
)
from msms.population.analytes import correlation_matrix
from msms.population.cohort import CHUNK_SIZE
from msms.population.disorders import allocate_by_sex, disorder_probabilities
from msms.population.params import PARAMS_DIR, parse_prevalence
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

CODES = default_catalogue().codes


# ----------------------------------------------------------------------------- parameters
def test_packaged_parameters_cover_at_least_30_catalogue_disorders() -> None:
    params = default_params()
    catalogue_codes = {d.code for d in default_catalogue().disorders}
    assert len(SIMULATED_DISORDERS) >= 30
    assert set(SIMULATED_DISORDERS) <= catalogue_codes
    for sig in params.signatures:
        assert sig.primary in CODES
        assert set(sig.markers) <= set(CODES)
        assert sig.source


def test_every_effect_and_mechanism_names_a_source() -> None:
    params = default_params()
    assert all(e.source and e.size_source for e in params.effects)
    assert all(m.source and m.rate_source for m in params.mechanisms)
    assert all(label.source for label in params.labels)


def test_required_fp_mechanisms_are_modelled() -> None:
    for name in ("prematurity", "tpn", "maternal_b12_deficiency", "pivalate_exposure",
                 "mcad_carrier", "maternal_carnitine_deficiency", "poor_spot_small",
                 "haemolysis", "late_collection"):
        assert name in FP_MECHANISMS


def test_correlation_matrix_is_a_valid_correlation() -> None:
    corr = correlation_matrix(default_params())
    assert np.allclose(np.diag(corr), 1.0)
    assert np.allclose(corr, corr.T)
    assert np.linalg.eigvalsh(corr).min() > 0


@pytest.mark.parametrize(("text", "expected"), [
    ("1:14,600 (95% CI 1:13,500-1:15,900)", 14_600),
    ("global PAH deficiency 0.64 per 10,000 births (~1:15,600)", 10_000 / 0.64),
    ("<1:250,000 (approx)", 250_000),
    ("1/13,636 to 1/750,000", 13_636),
    ("very rare", None),
    ("", None),
])
def test_parse_prevalence(text: str, expected: float | None) -> None:
    assert parse_prevalence(text) == expected


def _copy_params(tmp_path: Path) -> Path:
    target = tmp_path / "population"
    shutil.copytree(PARAMS_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_unknown_analyte_code_names_file_line_and_key(tmp_path: Path) -> None:
    folder = _copy_params(tmp_path)
    _edit(folder / "disorders.toml", 'markers = { C6 = 0.55,', 'markers = { C6x = 0.55,')
    with pytest.raises(DataError) as info:
        load_params(folder)
    error = info.value
    assert error.file is not None and error.file.endswith("disorders.toml")
    assert error.field == "disorder.MCAD.markers.C6x"
    assert error.line is not None
    line = (folder / "disorders.toml").read_text(encoding="utf-8").splitlines()[error.line - 1]
    assert "C6x" in line


def test_unknown_disorder_code_is_rejected(tmp_path: Path) -> None:
    folder = _copy_params(tmp_path)
    _edit(folder / "disorders.toml", "[disorder.ADA]", "[disorder.ADAX]")
    with pytest.raises(DataError, match="unknown disorder code 'ADAX'") as info:
        load_params(folder)
    assert info.value.field == "disorder.ADAX"


def test_unknown_effect_analyte_and_bad_probabilities_are_rejected(tmp_path: Path) -> None:
    folder = _copy_params(tmp_path)
    _edit(folder / "effects.toml", 'analytes = ["C5"]', 'analytes = ["C5x"]')
    with pytest.raises(DataError, match="C5x") as info:
        load_params(folder)
    assert info.value.file is not None and info.value.file.endswith("effects.toml")
    assert info.value.line is not None
    lines = (folder / "effects.toml").read_text(encoding="utf-8").splitlines()
    assert "C5x" in lines[info.value.line - 1]
    folder = _copy_params(tmp_path / "b")
    _edit(folder / "covariates.toml", "probability = 0.550", "probability = 0.650")
    with pytest.raises(DataError, match="sum to"):
        load_params(folder)


def test_missing_key_and_bad_toml_are_rejected(tmp_path: Path) -> None:
    folder = _copy_params(tmp_path)
    _edit(folder / "mechanisms.toml", "rate = 3.0e-4\n", "")
    with pytest.raises(DataError, match="rate") as info:
        load_params(folder)
    assert info.value.field == "mechanism.pivalate_exposure.rate"
    folder = _copy_params(tmp_path / "b")
    _edit(folder / "correlation.toml", "[chain_length]", "[chain_length")
    with pytest.raises(DataError, match="not valid TOML"):
        load_params(folder)


def test_unparseable_catalogue_prevalence_needs_an_estimate(tmp_path: Path) -> None:
    folder = _copy_params(tmp_path)
    _edit(folder / "disorders.toml",
          'prevalence_1_in = 2000000\nprevalence_source = "estimate (catalogue: extremely rare)"\n',
          "")
    with pytest.raises(DataError, match="DERED"):
        load_params(folder)


# ----------------------------------------------------------------------------- the table
def test_columns_follow_the_profile_contract() -> None:
    frame = simulate_cohort(500, seed=3)
    assert list(frame.columns) == [PROFILE_ID, *COVARIATE_COLUMNS, *CODES, *TRUTH_COLUMNS]
    assert frame[PROFILE_ID].is_unique
    assert set(frame["sex"]) <= {"M", "F", "U"}
    assert set(frame["tpn"]) <= {0, 1} and set(frame["transfused"]) <= {0, 1}
    assert (frame[list(CODES)] > 0).all().all()
    assert set(frame["severity"]) <= {"", *SEVERITIES}
    assert set(frame["true_disorder"]) <= {"", *SIMULATED_DISORDERS}


def test_same_seed_same_frame_and_different_seed_different() -> None:
    a = simulate_cohort(2_000, seed=42, disorder_rate=0.05)
    b = simulate_cohort(2_000, seed=42, disorder_rate=0.05)
    pd.testing.assert_frame_equal(a, b)
    assert a.to_csv(index=False) == b.to_csv(index=False)
    c = simulate_cohort(2_000, seed=43, disorder_rate=0.05)
    assert not np.allclose(a["Phe"], c["Phe"])
    assert not a["gestational_age_weeks"].equals(c["gestational_age_weeks"])


def test_whole_chunks_start_a_larger_cohort() -> None:
    small = simulate_cohort(CHUNK_SIZE, seed=8)
    large = simulate_cohort(CHUNK_SIZE + 500, seed=8)
    head = large.iloc[:CHUNK_SIZE].reset_index(drop=True)
    pd.testing.assert_frame_equal(small.drop(columns=PROFILE_ID), head.drop(columns=PROFILE_ID),
                                  check_exact=True)


def test_disorder_rate_enriches_without_changing_covariates() -> None:
    plain = simulate_cohort(5_000, seed=9)
    enriched = simulate_cohort(5_000, seed=9, disorder_rate=0.2)
    for name in COVARIATE_COLUMNS:
        assert plain[name].equals(enriched[name]), name
    rate = (enriched["true_disorder"] != "").mean()
    assert 0.17 < rate < 0.23
    affected = enriched[enriched["true_disorder"] != ""]
    assert (affected["severity"] != "").all()
    assert (enriched.loc[enriched["true_disorder"] == "", "severity"] == "").all()
    none = simulate_cohort(5_000, seed=9, disorder_rate=0.0)
    assert (none["true_disorder"] == "").all()


def test_x_linked_disorder_affects_boys() -> None:
    frame = simulate_cohort(20_000, seed=4, disorder_rate=0.5)
    xald = frame[frame["true_disorder"] == "XALD"]
    assert len(xald) > 50
    assert (xald["sex"] == "M").all()
    # drawn among boys at a raised rate, so its share of all babies is kept
    share = (frame["true_disorder"] == "XALD").mean() / (frame["true_disorder"] != "").mean()
    expected = disorder_probabilities(default_params(), enriched=True)[
        SIMULATED_DISORDERS.index("XALD")]
    assert abs(share - expected) < 0.3 * expected


def test_empty_cohort_and_bad_arguments() -> None:
    empty = simulate_cohort(0, seed=1)
    assert len(empty) == 0
    assert list(empty.columns) == [PROFILE_ID, *COVARIATE_COLUMNS, *CODES, *TRUTH_COLUMNS]
    with pytest.raises(DataError) as info:
        simulate_cohort(-1, seed=1)
    assert info.value.field == "n"
    with pytest.raises(DataError) as info:
        simulate_cohort(10, seed=-5)
    assert info.value.field == "seed"
    with pytest.raises(DataError) as info:
        simulate_cohort(10, seed=1, disorder_rate=1.5)
    assert info.value.field == "disorder_rate"


def test_split_truth() -> None:
    frame = simulate_cohort(300, seed=2, disorder_rate=0.1)
    profiles, truth = split_truth(frame)
    assert list(truth.columns) == [PROFILE_ID, *TRUTH_COLUMNS]
    assert list(profiles.columns) == [PROFILE_ID, *COVARIATE_COLUMNS, *CODES]
    assert truth[PROFILE_ID].equals(profiles[PROFILE_ID])
    with pytest.raises(DataError):
        split_truth(profiles)


def test_missing_covariates_can_be_simulated(tmp_path: Path) -> None:
    folder = _copy_params(tmp_path)
    _edit(folder / "covariates.toml", "birth_weight_g = 0.0", "birth_weight_g = 0.2")
    frame = simulate_cohort(3_000, seed=1, params=load_params(folder))
    share = frame["birth_weight_g"].isna().mean()
    assert 0.15 < share < 0.25
    assert frame["gestational_age_weeks"].notna().all()


# ----------------------------------------------------------------------------- mechanisms
@pytest.fixture(scope="module")
def mechanism_cohort() -> pd.DataFrame:
    """Every random mechanism at 2%, so each has hundreds of babies in 40,000."""
    params = load_params()
    boosted = tuple(dataclasses.replace(m, rate=0.02, rate_multiplier=1.0, when=None)
                    for m in params.mechanisms)
    return simulate_cohort(40_000, seed=77, disorder_rate=0.0,
                           params=dataclasses.replace(params, mechanisms=boosted))


def _has(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame["fp_mechanism"].str.split(MECHANISM_SEPARATOR, regex=False).map(
        lambda names: name in names)


@pytest.mark.parametrize(("mechanism", "analyte", "direction"), [
    ("maternal_b12_deficiency", "C3", +1),
    ("maternal_b12_deficiency", "Met", -1),
    ("pivalate_exposure", "C5", +1),
    ("mcad_carrier", "C8", +1),
    ("vlcad_carrier", "C14:1", +1),
    ("cud_carrier", "C0", -1),
    ("maternal_carnitine_deficiency", "C0", -1),
    ("maternal_3mcc", "C5OH+C4DC", +1),
    ("poor_spot_small", "Phe", -1),
    ("poor_spot_small", "C0", -1),
    ("poor_spot_layered", "C16", +1),
    ("haemolysis", "Arg", -1),
    ("catabolic_state", "C14:1", +1),
    ("transient_tyrosinaemia", "Tyr", +1),
])
def test_mechanisms_move_their_markers(mechanism_cohort: pd.DataFrame, mechanism: str,
                                       analyte: str, direction: int) -> None:
    has = _has(mechanism_cohort, mechanism)
    assert has.sum() > 400
    with_median = mechanism_cohort.loc[has, analyte].median()
    without_median = mechanism_cohort.loc[~has, analyte].median()
    log_ratio = np.log(with_median / without_median)
    assert direction * log_ratio > 0.05, (mechanism, analyte, log_ratio)


def test_strong_mechanisms_cross_the_cutoff_region(mechanism_cohort: pd.DataFrame) -> None:
    catalogue = default_catalogue()
    for mechanism, analyte, share in [("maternal_b12_deficiency", "C3", 0.25),
                                      ("pivalate_exposure", "C5", 0.5)]:
        has = _has(mechanism_cohort, mechanism)
        p99 = catalogue.analyte(analyte).pop_p99_umol_l
        assert (mechanism_cohort.loc[has, analyte] > p99).mean() > share
    has = _has(mechanism_cohort, "maternal_carnitine_deficiency")
    p1 = catalogue.analyte("C0").pop_p1_umol_l
    assert (mechanism_cohort.loc[has, "C0"] < p1).mean() > 0.3


def test_covariate_labels_follow_the_covariates(mechanism_cohort: pd.DataFrame) -> None:
    frame = mechanism_cohort
    expected = {
        "prematurity": (frame["gestational_age_weeks"] < 37)
        | (frame["birth_weight_g"].astype(float) < 2500),
        "tpn": frame["tpn"] == 1,
        "early_collection": frame["age_at_collection_hours"] < 24,
        "late_collection": frame["age_at_collection_hours"] > 168,
    }
    for name, mask in expected.items():
        assert np.array_equal(_has(frame, name).to_numpy(bool), mask.to_numpy(bool)), name


def test_the_documentation_describes_every_parameter() -> None:
    """docs/simulation.md names every covariate term, effect source, disorder and mechanism."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "simulation.md").read_text(
        encoding="utf-8")
    params = default_params()
    for term in params.terms:
        assert f"`{term.name}`" in doc, term.name
    for effect in params.effects:
        assert effect.source in doc, effect.source
    for sig in params.signatures:
        assert f"| {sig.code} | {sig.primary} |" in doc, sig.code
    for name in FP_MECHANISMS:
        assert f"`{name}`" in doc, name
    for code in {d.code for d in default_catalogue().disorders} - set(SIMULATED_DISORDERS):
        assert f"`{code}`" in doc, f"{code} is neither simulated nor explained"


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 300), seed=st.integers(0, 2**63),
       rate=st.one_of(st.none(), st.floats(0.0, 1.0)))
def test_any_seed_gives_a_consistent_table(n: int, seed: int, rate: float | None) -> None:
    frame = simulate_cohort(n, seed=seed, disorder_rate=rate)
    assert len(frame) == n
    assert frame[PROFILE_ID].is_unique
    values = frame[list(CODES)].to_numpy()
    assert np.isfinite(values).all() and (values > 0).all()
    affected = frame["true_disorder"] != ""
    assert ((frame["severity"] != "") == affected).all()
    if rate == 0.0:
        assert not affected.any()
    names = set(FP_MECHANISMS)
    for text in frame["fp_mechanism"]:
        assert not text or set(text.split(MECHANISM_SEPARATOR)) <= names
    ga = frame["gestational_age_weeks"]
    assert ((ga >= 23) & (ga <= 43)).all()
    age = frame["age_at_collection_hours"]
    assert ((age >= 6) & (age <= 720)).all()


# ----------------------------------------------------------------------------- disorder rate
def _restricted_to(params: object) -> list[int | None]:
    codes = ("M", "F", "U")
    return [None if sig.sex is None else codes.index(sig.sex)
            for sig in params.signatures]  # type: ignore[attr-defined]


@settings(max_examples=200, deadline=None)
@given(rate=st.one_of(st.floats(0.0, 1.0), st.floats(0.9, 1.0), st.just(1.0)),
       shares=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=8),
       restricted=st.lists(st.sampled_from([None, None, 0, 1]), min_size=8, max_size=8),
       sexes=st.tuples(st.floats(0.05, 1.0), st.floats(0.05, 1.0), st.floats(0.0, 0.05)))
def test_allocation_by_sex_keeps_the_rate_and_the_shares(
    rate: float, shares: list[float], restricted: list[int | None],
    sexes: tuple[float, float, float]
) -> None:
    share = np.array(shares) / sum(shares)
    restricted_to = restricted[:len(share)]
    restricted_to[0] = None  # at least one disorder any baby can have
    p = np.array(sexes) / sum(sexes)
    rate_by_sex, mix = allocate_by_sex(share, rate, p, restricted_to)
    assert float(p @ rate_by_sex) == pytest.approx(rate, abs=1e-9)
    assert ((rate_by_sex >= 0) & (rate_by_sex <= 1)).all()
    for g in range(3):
        ineligible = [d for d, r in enumerate(restricted_to) if r is not None and r != g]
        assert (mix[g, ineligible] == 0).all()
        if rate_by_sex[g] > 0:
            assert mix[g].sum() == pytest.approx(1.0)
    fits = all(rate * share[[d for d, r in enumerate(restricted_to) if r == g]].sum() <= p[g]
               for g in range(3))
    if fits:  # every disorder keeps its share of all babies
        totals = (p[:, None] * rate_by_sex[:, None] * mix).sum(axis=0)
        np.testing.assert_allclose(totals, rate * share, atol=1e-9)


def test_allocation_without_a_binding_cap_raises_the_restricted_rate_only() -> None:
    params = default_params()
    share = disorder_probabilities(params, enriched=True)
    p = np.array(params.covariates.sex_probabilities)
    rate_by_sex, mix = allocate_by_sex(share, 0.05, p, _restricted_to(params))
    xald = SIMULATED_DISORDERS.index("XALD")
    assert rate_by_sex[1] == pytest.approx(0.05 * (1 - share[xald]))
    assert rate_by_sex[0] == pytest.approx(0.05 * (1 - share[xald] + share[xald] / p[0]))
    assert mix[1, xald] == 0 and mix[2, xald] == 0


@pytest.mark.parametrize("rate", [1.0, 0.999, 0.99, 0.95, 0.92])
def test_affected_fraction_is_the_disorder_rate_near_1(rate: float) -> None:
    """Near 1 the boys' rate is capped; the other disorders move to girls so the total is R."""
    n = 20_000
    frame = simulate_cohort(n, seed=12, disorder_rate=rate)
    affected = int((frame["true_disorder"] != "").sum())
    sd = (n * rate * (1 - rate)) ** 0.5
    assert abs(affected - n * rate) <= 4 * sd + 1, (rate, affected)
    xald = frame["true_disorder"] == "XALD"
    assert xald.any() and (frame.loc[xald, "sex"] == "M").all()
    expected = rate * disorder_probabilities(default_params(), enriched=True)[
        SIMULATED_DISORDERS.index("XALD")]
    assert abs(xald.mean() - expected) < 0.15 * expected
    if rate == 1.0:
        assert affected == n

