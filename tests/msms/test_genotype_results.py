"""The genotype results file (``msms.genotype_results``): the columns, the gene by code or
symbol in any case, report times in UTC (a time without an offset in the given zone), an
identical row read once, and every malformed row refused naming file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from msms.errors import DataError
from msms.genotype_results import read_genotype_results
from tests.conftest import ROOT

EXAMPLE = ROOT / "tests" / "data" / "genotypes" / "genotype_results_example.csv"
HEAD = "barcode,gene,variants_detected,variants,reported_at,lab_reference\n"


def test_the_example_file_reads():
    rows = read_genotype_results(EXAMPLE.read_bytes(), EXAMPLE.name)
    assert len(rows) == 9  # ten rows, one an identical copy
    first = rows[0]
    assert (first.line, first.barcode, first.assay, first.variants_detected) == (
        2,
        "000000216",
        "ACADM",
        2,
    )
    assert first.variants == "NM_000016.6:c.985A>G; NM_000016.6:c.985A>G"
    assert first.reported_at == datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    assert first.lab_reference == "MOL-2026-0311"
    assert rows[3].assay == "ACADVL"  # written acadvl
    assert rows[1].variants == ""


def test_report_times_without_an_offset_are_in_the_given_zone():
    data = (HEAD + "A1,ACADM,0,,2026-03-05,R\nA2,ACADM,0,,2026-03-05 14:20,R\n").encode()
    rows = read_genotype_results(data, "g.csv", default_tz=ZoneInfo("Asia/Shanghai"))
    assert [r.reported_at for r in rows] == [
        datetime(2026, 3, 4, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 5, 6, 20, tzinfo=UTC),
    ]


def test_a_quoted_hgvs_text_with_commas_and_a_bom():
    data = ("\ufeff" + HEAD + 'A1,ACADVL,2,"c.848T>C, c.1097G>A",2026-03-05,R\n').encode()
    (row,) = read_genotype_results(data, "g.csv")
    assert row.variants == "c.848T>C, c.1097G>A" and row.variants_detected == 2


@pytest.mark.parametrize(
    ("body", "line", "field", "says"),
    [
        (HEAD + "A1,ACADM,two,,2026-03-05,R\n", 2, "variants_detected", "0, 1 or 2"),
        (HEAD + "A1,ACADM,-1,,2026-03-05,R\n", 2, "variants_detected", "0, 1 or 2"),
        (
            HEAD + "A1,ACADM,0,,2026-03-05,R\nA2,MMA,0,,2026-03-05,R\n",
            3,
            "gene",
            "not a genotype assay",
        ),
        (
            HEAD + "A1,ACADM,0,,2026-03-05,R\nA1,ACADM,0,c.985A>G,2026-03-05,R\n",
            3,
            "variants",
            "on line 2",
        ),
        (
            HEAD + "A1,ACADM,0,,2026-03-05,R\nA1,ACADM,1,,2026-03-05,R\n",
            3,
            "variants_detected",
            "on line 2",
        ),
        (HEAD + ",ACADM,0,,2026-03-05,R\n", 2, "barcode", "missing value"),
        (HEAD + "A1,ACADM,0,,2026-03-05,\n", 2, "lab_reference", "missing value"),
        (HEAD + "A1,ACADM,0,,5 March,R\n", 2, "reported_at", "ISO 8601"),
        (HEAD + "A1,ACADM,0," + "c" * 501 + ",2026-03-05,R\n", 2, "variants", "500"),
        (
            "barcode,gene,reported_at,lab_reference\nA1,ACADM,2026-03-05,R\n",
            1,
            "variants_detected",
            "missing column",
        ),
        (HEAD, 2, None, "no genotype result"),
    ],
)
def test_malformed_rows_name_file_line_and_field(body, line, field, says):
    with pytest.raises(DataError) as caught:
        read_genotype_results(body.encode(), "bad.csv")
    error = caught.value
    assert (error.file, error.line, error.field) == ("bad.csv", line, field)
    assert says in str(error) and str(error).startswith("bad.csv:")


def test_not_utf8_is_refused():
    with pytest.raises(DataError, match="not UTF-8"):
        read_genotype_results(HEAD.encode() + b"A1,ACADM,0,\xff,2026-03-05,R\n", "bad.csv")
