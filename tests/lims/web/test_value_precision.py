"""The specimen page prints concentrations as the documents do (``reports.numbers.fmt_number``,
3 significant digits): 173.0 as ``173``, 127.289 as ``127``, 1.2775 as ``1.28``, in the values
table and the baby's trend alike."""

from __future__ import annotations

import re

from lims.web.context import WebState
from reports.numbers import fmt_number, fmt_percentile
from reports.pdf import tables
from tests.lims.helpers import accession, card, upload
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page


def test_the_pages_and_the_documents_share_one_formatter(settings):
    state = WebState.build(settings)
    assert all(env.filters["number"] is fmt_number for env in state.environments.values())
    assert tables.fmt_number is fmt_number
    assert [fmt_number(v) for v in (173.0, 127.289, 1.2775, 0.08834, None)] == [
        "173", "127", "1.28", "0.0883", "-"]


def _values_table(client, web, world, plate_id: str, phe: float) -> str:
    """The specimen page's values table of a card measured at ``phe`` on its own plate."""
    ids = accession(client, world, 1)
    plate = plate_csv(plate_id, {card(1): {"Phe": phe, "Xle": 127.289, "Tyr": 1.2775}})
    assert upload(client, world, f"{plate_id}.csv", plate).status_code == 201
    sign_in_page(web, "reviewer")
    page = web.get(f"/lab/specimens/{ids[1]['id']}").text
    return page.split('id="values"', 1)[1].split("</table>", 1)[0]


def test_the_specimen_page_prints_values_to_three_significant_digits(client, web, world):
    values = _values_table(client, web, world, "PREC-1", 173.0)
    shown = dict(re.findall(r"<tr><td>([A-Za-z/]+)</td><td data-value=\"[^\"]*\">([^<]*)</td>",
                            values))
    assert shown["Phe"] == "173" and shown["Xle"] == "127" and shown["Tyr"] == "1.28", shown
    assert ">127.289<" not in values and ">1.2775<" not in values  # full value: data-value


def test_percentiles_and_multiples_of_the_median_are_printed_to_their_precision(
        client, web, world):
    """Percentiles to one decimal, ``>99.9`` and ``<0.1`` at the ends of the grid they are
    clipped to (as the reasons print them), and multiples of the median to 3 significant
    digits, as the values are."""
    assert [fmt_percentile(v) for v in (99.9, 99.84, 42.04, 0.1, None)] == [
        ">99.9", "99.8", "42.0", "<0.1", "-"]
    values = _values_table(client, web, world, "PREC-2", 1900.0)
    rows = re.findall(r"<tr><td>([A-Za-z0-9:/-]+)</td><td data-value=\"[^\"]*\">[^<]*</td>"
                      r"<td>([^<]*)</td><td>([^<]*)</td></tr>", values)
    scored = [(name, p, mom) for name, p, mom in rows if p != "-"]
    assert scored, values  # the page shows percentiles for this plate
    for name, p, mom in scored:
        assert re.fullmatch(r"(&gt;99\.9|&lt;0\.1|\d{1,2}\.\d)", p), (name, p)
        assert mom == fmt_number(float(mom)), (name, mom)
    assert dict((n, p) for n, p, _ in scored)["Phe"] == "&gt;99.9"
