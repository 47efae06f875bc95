"""The data-file toolkit: where a key is written, errors that name file, line and field, and
written files that read back the same (hypothesis for the line lookup and the round trip)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msms.datafiles import (
    Positive,
    Range,
    Schema,
    Text,
    dump_toml,
    field_name,
    key_lines,
    key_text,
    line_of,
    load_toml,
    write_toml,
)
from msms.errors import DataError

HAND_WRITTEN = '''\
# a comment with = and [brackets]
version = "1"  # trailing comment
title = """several
lines "quoted" = [x]"""

[method]
name = 'lit "x"'
"4-1s" = "reject"
dotted.key = 3
inline = { a = 1, "b c" = [1, 2], d = { e = 2020-01-01 } }

[[rule]]
code = "PKU"
levels = [
  1.5,  # first
  2.5,
]

[[rule.marker]]
name = "Phe"

[[rule.marker]]
name = "Tyr"

[[rule]]
code = "MCAD"

[[rule.marker]]
name = "C8"

[lots."VQC-L-2501".targets]
Phe = { mean_umol_l = 52.0, sd_umol_l = 3.6 }
'''


@pytest.mark.parametrize(("loc", "line"), [
    (("version",), 2), (("title",), 3), (("method",), 6), (("method", "name"), 7),
    (("method", "4-1s"), 8), (("method", "dotted", "key"), 9), (("method", "inline", "b c", 1), 10),
    (("method", "inline", "d", "e"), 10), (("rule",), 12), (("rule", 0, "levels", 1), 16),
    (("rule", 0, "marker", 1, "name"), 23), (("rule", 1, "code"), 26),
    (("rule", 1, "marker", 0, "name"), 29), (("lots", "VQC-L-2501", "targets", "Phe"), 32),
    (("rule", 1, "missing"), 25), (("method", "inline", "zz"), 10), (("absent",), None),
])
def test_the_line_of_a_key_path(loc, line):
    assert line_of(HAND_WRITTEN, loc) == line


def test_field_names_quote_keys_as_toml_does():
    assert field_name(("westgard", "actions", "4-1s")) == "westgard.actions.4-1s"
    assert field_name(("westgard", "actions", "a b")) == 'westgard.actions."a b"'
    assert field_name(("effect", 3, "analytes", 0)) == "effect[3].analytes[0]"


# -- property: every key path of a written document is found on a line that holds it ----------

KEYS = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,6}", fullmatch=True),
                 st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
                         min_size=1, max_size=6))
SCALARS = st.one_of(
    st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
    st.dates(), st.datetimes(),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)
DOCUMENTS = st.dictionaries(KEYS, st.one_of(
    VALUES, st.lists(st.dictionaries(KEYS, VALUES, min_size=1, max_size=3), min_size=1,
                     max_size=3)), max_size=5)


def _paths(value, loc=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*loc, key)
            yield from _paths(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*loc, i)
            yield from _paths(item, (*loc, i))


@settings(max_examples=150, deadline=None)
@given(DOCUMENTS)
def test_every_written_key_path_is_found_where_it_is_written(document):
    text = dump_toml(document, comment="header = [not a key]")
    assert tomllib.loads(text) == document  # the round trip
    lines = key_lines(text)
    rows = text.split("\n")
    for loc in _paths(document):
        line = lines.get(loc)
        assert line is not None, loc
        last = loc[-1]
        if isinstance(last, str):  # the key itself is on that line (bare or quoted)
            written = rows[line - 1]
            assert key_text(last) in written or repr(last)[1:-1] in written or "\\" in written


# -- the loader ------------------------------------------------------------------------------------


class Target(Schema):
    mean_umol_l: Positive
    sd_umol_l: Positive


class Lot(Schema):
    level: Literal["low", "high"]
    expires: dt.date | None = None
    in_use: bool = False
    targets: dict[str, Target]


class Lots(Schema):
    version: Text
    fraction: Annotated[float, Range(0, 1)] = 0.5
    lots: dict[str, Lot]


LOTS = '''\
version = "2025.1"

[lots.L1]
level = "low"
expires = 2027-12-31

[lots.L1.targets]
Phe = { mean_umol_l = 52.0, sd_umol_l = 3.6 }
'''


@pytest.mark.parametrize(("old", "new", "line", "field", "words"), [
    ('level = "low"', 'level = "mid"', 4, "lots.L1.level", "must be one of 'low' or 'high'"),
    ("sd_umol_l = 3.6", "sd_umol_l = 0", 8, "lots.L1.targets.Phe.sd_umol_l", "must be > 0"),
    ("sd_umol_l = 3.6", 'sd_umol_l = "3.6"', 8, "lots.L1.targets.Phe.sd_umol_l",
     "must be a number, got '3.6'"),
    ("expires = 2027-12-31", 'expires = "soon"', 5, "lots.L1.expires", "TOML date"),
    ("expires = 2027-12-31", "expires = 2027-12-31\nin_use = 1", 6, "lots.L1.in_use",
     "true or false"),
    ("expires = 2027-12-31", "expires = 2027-12-31\nexpiry = 1", 6, "lots.L1.expiry",
     "unknown key 'expiry' (allowed: expires, in_use, level, targets)"),
    ('version = "2025.1"', 'version = " "', 1, "version", "non-empty string"),
    ('version = "2025.1"', 'version = "1"\nfraction = 2', 2, "fraction", "must lie in [0, 1]"),
    ('level = "low"\n', "", 3, "lots.L1.level", "missing key 'level'"),
    ("[lots.L1.targets]", "[lots.L1.targets", 7, None, "not valid TOML"),
])
def test_loader_errors_name_file_line_and_field(tmp_path, old, new, line, field, words):
    path = tmp_path / "lots.toml"
    path.write_text(LOTS.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_toml(path, Lots)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), line, field)
    assert words in str(info.value)


def test_the_first_problem_in_the_file_is_reported(tmp_path):
    path = tmp_path / "lots.toml"
    path.write_text(LOTS.replace('level = "low"', 'level = "x"').replace(
        'version = "2025.1"', "version = 3"), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_toml(path, Lots)
    assert (info.value.line, info.value.field) == (1, "version")


def test_files_that_cannot_be_read(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_toml(tmp_path / "absent.toml", Lots)
    with pytest.raises(DataError, match="cannot read"):
        load_toml(tmp_path, Lots)
    (tmp_path / "latin.toml").write_bytes('version = "é"'.encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_toml(tmp_path / "latin.toml", Lots)


def test_a_written_file_reads_back_as_its_schema(tmp_path):
    lots, _ = load_toml(_write(tmp_path, LOTS), Lots)
    path = write_toml(lots.model_dump(), tmp_path / "again.toml", comment="lots\nof controls")
    assert path.read_text(encoding="utf-8").startswith("# lots\n# of controls\n")
    assert load_toml(path, Lots)[0] == lots


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "file.toml"
    path.write_text(text, encoding="utf-8")
    return path
