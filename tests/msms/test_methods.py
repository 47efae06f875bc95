"""Method definitions: the packaged defaults and the loader's validation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from msms.catalogue import default_catalogue
from msms.errors import DataError
from msms.methods import METHODS_DIR, default_method, load_method, packaged_methods

D, C13 = 1.006277, 1.003355


def test_two_defaults_ship_and_cover_the_whole_catalogue() -> None:
    assert packaged_methods() == ("butylated", "nonderivatized")
    codes = default_catalogue().codes
    for name in packaged_methods():
        method = load_method(name)
        assert method.codes == codes  # catalogue order
        assert method.version
        assert method.verified is False
        assert "must" in method.notice and "verif" in method.notice
        assert method.label.endswith("(unverified)")


@pytest.mark.parametrize("name", ["nonderivatized", "butylated"])
def test_defaults_are_marked_unverified_in_the_file_header(name: str) -> None:
    text = (METHODS_DIR / f"{name}.toml").read_text(encoding="utf-8")
    assert "DEFAULTS A LABORATORY MUST VERIFY" in text.splitlines()[3]
    assert "verified = true" not in text


def test_analyte_transitions_are_the_catalogues_mz() -> None:
    catalogue = default_catalogue()
    for butylated, name in [(False, "nonderivatized"), (True, "butylated")]:
        method = load_method(name)
        for entry in method:
            expected = catalogue.analyte(entry.analyte).transition(butylated=butylated)
            if expected is None:  # no butyl m/z in the catalogue: documented in the entry
                assert entry.note, entry.analyte
                continue
            first = entry.transitions[0]
            assert (first.precursor_mz, first.product_mz) == pytest.approx(expected), entry.analyte


def test_isobars_that_butylation_resolves_have_two_transitions() -> None:
    butyl = load_method("butylated").analyte("C5DC+C6OH")
    assert [t.label for t in butyl.transitions] == ["C5DC", "C6OH"]
    assert [t.precursor_mz for t in butyl.transitions] == [388.269, 332.243]
    nonderiv = load_method("nonderivatized").analyte("C5DC+C6OH")
    assert len(nonderiv.transitions) == 1


def test_internal_standards_are_the_analyte_plus_the_label_shift() -> None:
    method = default_method()
    phe = method.analyte("Phe")
    assert phe.internal_standard.name == "D5-Phe"
    assert phe.internal_standard.transition.precursor_mz == pytest.approx(166.086 + 5 * D, abs=1e-3)
    assert phe.internal_standard.transition.product_mz == pytest.approx(120.081 + 5 * D, abs=1e-3)
    c8 = method.analyte("C8")
    assert c8.internal_standard.transition.precursor_mz == pytest.approx(288.217 + 3 * D, abs=1e-3)
    assert c8.internal_standard.transition.product_mz == pytest.approx(85.028)
    # analytes without an isotopologue are read against a neighbour and say so
    c10 = method.analyte("C10")
    assert c10.internal_standard.name == "D3-C8"
    assert "response factor" in c10.note
    butyl_phe = load_method("butylated").analyte("Phe").internal_standard.transition
    assert butyl_phe.precursor_mz == pytest.approx(222.149 + 5 * D, abs=1e-3)


def test_factor_is_is_concentration_times_response_factor() -> None:
    method = default_method()
    assert method.analyte("Phe").factor_umol_l == 50.0
    assert all(a.response_factor == 1.0 and a.is_conc_umol_l > 0 for a in method)
    # an internal standard serves several analytes
    assert {"C6", "C8", "C10"} <= {a.analyte for a in method
                                   if a.internal_standard.name == "D3-C8"}


# ---- validation -------------------------------------------------------------------------------

GOOD = """\
[method]
name = "tiny"
version = "1"
derivatization = "none"
verified = true

[internal_standards."D5-Phe"]
precursor_mz = 171.117
product_mz = 125.112
conc_umol_l = 50.0
verified = true

[analytes.Phe]
precursor_mz = 166.086
product_mz = 120.081
internal_standard = "D5-Phe"
response_factor = 1.25
verified = true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "method.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_small_verified_method_loads(tmp_path: Path) -> None:
    method = load_method(_write(tmp_path, GOOD))
    assert method.verified is True
    assert method.analyte("Phe").factor_umol_l == pytest.approx(62.5)
    assert method.label == "tiny 1"
    with pytest.raises(KeyError, match="does not measure"):
        method.analyte("Tyr")


def test_verified_only_when_every_entry_is(tmp_path: Path) -> None:
    text = GOOD.replace("response_factor = 1.25\nverified = true",
                        "response_factor = 1.25\nverified = false")
    assert load_method(_write(tmp_path, text)).verified is False


@pytest.mark.parametrize(
    ("change", "line", "field", "message"),
    [
        (("[analytes.Phe]", "[analytes.Phx]"), 13, "analytes.Phx", "unknown analyte 'Phx'"),
        (("[analytes.Phe]", "[analytes.PHE]"), 13, "analytes.PHE", "canonical code 'Phe'"),
        (('internal_standard = "D5-Phe"', 'internal_standard = "D6-Phe"'), 16,
         "analytes.Phe.internal_standard", "not defined"),
        (("conc_umol_l = 50.0", "conc_umol_l = 0"), 10,
         "internal_standards.D5-Phe.conc_umol_l", "> 0"),
        (("response_factor = 1.25", "response_factor = -1"), 17,
         "analytes.Phe.response_factor", "> 0"),
        (("response_factor = 1.25", 'response_factor = "1"'), 17,
         "analytes.Phe.response_factor", "must be a number"),
        (("product_mz = 120.081", "product_mz = 120.081\nprodcut = 1"), 16,
         "analytes.Phe.prodcut", "unknown key"),
        (('derivatization = "none"', 'derivatization = "acetyl"'), 4,
         "method.derivatization", "must be one of"),
        (("verified = true\n\n[internal", 'verified = "yes"\n\n[internal'), 5,
         "method.verified", "true or false"),
        (("precursor_mz = 171.117\nproduct_mz = 125.112",
          "precursor_mz = 166.3\nproduct_mz = 120.2"), 14, "analytes.Phe.precursor_mz",
         "cannot be told apart"),
    ],
)
def test_bad_entries_name_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], line: int, field: str, message: str
) -> None:
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(DataError) as info:
        load_method(path)
    err = info.value
    assert err.file == str(path)
    assert err.field == field
    assert err.line == line
    assert message in str(err)


def test_unused_internal_standard_is_rejected(tmp_path: Path) -> None:
    text = GOOD + '\n[internal_standards."D3-C8"]\nprecursor_mz = 291.2\nproduct_mz = 85.0\n' \
                  'conc_umol_l = 0.5\n'
    with pytest.raises(DataError, match="serves no analyte"):
        load_method(_write(tmp_path, text))


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("version = \"1\"", "version = "))
    with pytest.raises(DataError) as info:
        load_method(path)
    assert info.value.line == 3
    assert info.value.file == str(path)


def test_missing_file_lists_the_packaged_methods(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nonderivatized"):
        load_method(tmp_path / "nope.toml")


def test_transitions_list_form(tmp_path: Path) -> None:
    text = GOOD.replace(
        "precursor_mz = 166.086\nproduct_mz = 120.081",
        'transitions = [\n  { precursor_mz = 166.086, product_mz = 120.081, label = "a" },\n'
        '  { precursor_mz = 180.1, product_mz = 120.081, label = "b" },\n]',
    )
    entry = load_method(_write(tmp_path, text)).analyte("Phe")
    assert [t.label for t in entry.transitions] == ["a", "b"]
    bad = text.replace("precursor_mz = 180.1", "precursor_mz = -1")
    with pytest.raises(DataError, match=r"transitions\[1\]"):
        load_method(_write(tmp_path, bad))


def test_every_number_in_the_defaults_is_finite_and_positive() -> None:
    for name in packaged_methods():
        for entry in load_method(name):
            for t in (*entry.transitions, entry.internal_standard.transition):
                assert math.isfinite(t.precursor_mz) and t.precursor_mz > t.product_mz > 0
