"""The simulated second tier and repeat specimens: what the cited studies report, as directions
and shares the tests can check."""

from __future__ import annotations

import numpy as np
import pytest

from msms.errors import DataError
from msms.population import simulate_cohort
from msms.population.screening import CONTEXT_COLUMNS, second_tier_columns, simulate_screening
from msms.population.second_tier_params import (
    SECOND_TIER_TOML,
    default_second_tier_params,
    load_second_tier_params,
)


@pytest.fixture(scope="module")
def screening():
    return simulate_screening(100_000, seed=4, disorder_rate=0.05)


def test_first_card_is_the_cohort_with_second_tier_columns(screening):
    first, repeat = screening
    cohort = simulate_cohort(100_000, seed=4, disorder_rate=0.05)
    for column in cohort.columns:
        assert first[column].astype(str).equals(cohort[column].astype(str)), column
    assert set(second_tier_columns()) <= set(first.columns)
    assert set(CONTEXT_COLUMNS) <= set(first.columns)
    assert (repeat["previous_specimen_id"] == first["specimen_id"]).all()
    assert (repeat["infant_id"] == first["infant_id"]).all()
    assert (repeat["true_disorder"] == first["true_disorder"]).all()
    assert (repeat["age_at_collection_hours"] >= first["age_at_collection_hours"] + 119).all()
    again, _ = simulate_screening(50_000, seed=4, disorder_rate=0.05)
    assert again.equals(first.head(50_000).reset_index(drop=True))


def _share(frame, mask, column, level):
    return float((frame.loc[mask, column] >= level).mean())


def test_second_tier_analytes_separate_as_the_studies_report(screening):
    first, _ = screening
    unaffected = first["true_disorder"].eq("") & first["fp_mechanism"].eq("")
    for code, level in (("MCA", 1.0), ("aIle", 2.0), ("C26:0-LPC-2T", 0.2), ("tHcy", 15.0)):
        assert _share(first, unaffected, code, level) < 0.01, code
    assert _share(first, first["true_disorder"].eq("PA"), "MCA", 1.0) == 1.0  # Ontario
    assert _share(first, first["true_disorder"].eq("MSUD"), "aIle", 2.0) == 1.0  # Oglesbee
    non_mild = first["severity"].isin(["moderate", "severe"])
    assert _share(first, first["true_disorder"].eq("IVA") & non_mild, "C5-IV", 0.4) == 1.0
    # maternal B12 deficiency: MMA and tHcy often raised, MCA rarely (Catalonia 60%, 87%, 5%)
    b12 = first["fp_mechanism"].str.contains("maternal_b12_deficiency")
    assert 0.4 < _share(first, b12, "MMA", 5.0) < 0.8
    assert _share(first, b12, "tHcy", 15.0) > 0.6
    assert _share(first, b12, "MCA", 1.0) < 0.1
    # pivalate: the raised C5 is pivaloylcarnitine, not isovalerylcarnitine (Boemer 2014)
    piv = first["fp_mechanism"].str.contains("pivalate_exposure") & first["true_disorder"].eq("")
    assert _share(first, piv, "C5-PIV", 0.1) > 0.9
    assert _share(first, piv, "C5-IV", 0.4) < 0.05
    # TPN raises the branched-chain amino acids, not allo-isoleucine (Oglesbee 2008)
    tpn = first["tpn"].eq(1) & first["true_disorder"].eq("")
    assert first.loc[tpn, "Xle"].median() > 1.5 * first.loc[unaffected, "Xle"].median()
    assert _share(first, tpn, "aIle", 2.0) < 0.01


def test_repeat_specimens_follow_each_mechanism(screening):
    first, repeat = screening
    tpn = first["tpn"].eq(1) & first["true_disorder"].eq("")
    assert repeat.loc[tpn, "Xle"].median() < 0.8 * first.loc[tpn, "Xle"].median()
    piv = first["fp_mechanism"].str.contains("pivalate_exposure")
    assert repeat.loc[piv, "C5-PIV"].median() < 0.3 * first.loc[piv, "C5-PIV"].median()
    b12 = first["fp_mechanism"].str.contains("maternal_b12_deficiency")
    ratio = repeat.loc[b12, "MMA"].median() / first.loc[b12, "MMA"].median()
    assert 0.6 < ratio < 1.6  # persists for weeks
    carrier = first["fp_mechanism"].str.contains("mcad_carrier") & first["true_disorder"].eq("")
    none = first["fp_mechanism"].eq("") & first["true_disorder"].eq("")
    assert repeat.loc[carrier, "C8"].median() > 1.2 * repeat.loc[none, "C8"].median()
    msud = first["true_disorder"].eq("MSUD")
    assert (repeat.loc[msud, "Xle"].to_numpy() > first.loc[msud, "Xle"].to_numpy()).mean() > 0.9
    unaffected = first["true_disorder"].eq("")
    r = np.corrcoef(np.log(first.loc[unaffected, "C3"]), np.log(repeat.loc[unaffected, "C3"]))
    assert 0.4 < r[0, 1] < 0.8


def _variants(first, assay, disorder, carrier):
    case = first["true_disorder"].eq(disorder)
    carries = first["fp_mechanism"].str.contains(carrier) & ~case
    return (first.loc[case, assay].value_counts().to_dict(),
            first.loc[carries, assay].value_counts().to_dict(),
            first.loc[~case & ~carries, assay].value_counts().to_dict())


def _within(k, n, p):
    """k of n agrees with rate p (4 standard deviations)."""
    return abs(k - n * p) <= 4 * np.sqrt(n * p * (1 - p)) + 1


@pytest.mark.parametrize(("assay", "disorder", "carrier"), [
    ("ACADM", "MCAD", "mcad_carrier"), ("ACADVL", "VLCAD", "vlcad_carrier")])
def test_genotypes_give_cases_two_variants_and_carriers_one_at_the_detection_rate(
        screening, assay, disorder, carrier):
    first, repeat = screening
    p, vus = default_second_tier_params().genotypes[assay][2:]
    cases, carriers, others = _variants(first, assay, disorder, carrier)
    n_cases, n_carriers, n_others = (sum(d.values()) for d in (cases, carriers, others))
    assert n_cases > 100 and n_carriers > 300
    assert set(cases) <= {0, 1, 2} and set(carriers) <= {0, 1} and set(others) <= {0, 1}
    assert _within(cases.get(2, 0), n_cases, p * p)
    assert _within(cases.get(1, 0), n_cases, 2 * p * (1 - p))
    assert _within(carriers.get(1, 0), n_carriers, p)
    assert _within(others.get(1, 0), n_others, vus)  # a variant of uncertain significance
    assert (repeat[assay] == first[assay]).all()  # the baby's genotype, on either card


def test_a_lower_detection_rate_leaves_cases_with_fewer_than_two_variants(tmp_path):
    text = SECOND_TIER_TOML.read_text(encoding="utf-8")
    path = tmp_path / "second_tier.toml"
    path.write_text(text.replace("detection_per_allele = 0.97", "detection_per_allele = 0.5"),
                    encoding="utf-8")
    first, _ = simulate_screening(20_000, seed=5, disorder_rate=0.2,
                                  second_tier=load_second_tier_params(path))
    cases, carriers, _ = _variants(first, "ACADM", "MCAD", "mcad_carrier")
    n = sum(cases.values())
    assert n > 100
    for k, share in ((0, 0.25), (1, 0.5), (2, 0.25)):
        assert _within(cases.get(k, 0), n, share), (k, cases)
    assert _within(carriers.get(0, 0), sum(carriers.values()), 0.5)


def test_a_genotype_of_the_catalogue_without_simulation_parameters_is_refused(tmp_path):
    text = SECOND_TIER_TOML.read_text(encoding="utf-8")
    start = text.index("[[genotype]]\nassay = \"ACADVL\"")
    end = text.index("[context]")
    path = tmp_path / "second_tier.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(DataError, match="genotype 'ACADVL' has no"):
        load_second_tier_params(path)
