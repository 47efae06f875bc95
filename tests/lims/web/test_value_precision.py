"""The specimen page prints concentrations as the documents do (``reports.numbers.fmt_number``,
3 significant digits): 173.0 as ``173``, 127.289 as ``127``, 1.2775 as ``1.28``, in the values
table and the baby's trend alike."""

from __future__ import annotations

import re

from lims.web.context import WebState
from reports.numbers import fmt_number
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


def test_the_specimen_page_prints_values_to_three_significant_digits(client, web, world):
    ids = accession(client, world, 1)
    plate = plate_csv("PREC-1", {card(1): {"Phe": 173.0, "Xle": 127.289, "Tyr": 1.2775}})
    assert upload(client, world, "prec.csv", plate).status_code == 201
    sign_in_page(web, "reviewer")
    page = web.get(f"/lab/specimens/{ids[1]['id']}").text
    values = page.split('id="values"', 1)[1].split("</table>", 1)[0]
    shown = dict(re.findall(r"<tr><td>([A-Za-z/]+)</td><td data-value=\"[^\"]*\">([^<]*)</td>",
                            values))
    assert shown["Phe"] == "173" and shown["Xle"] == "127" and shown["Tyr"] == "1.28", shown
    assert ">127.289<" not in values and ">1.2775<" not in values  # full value: data-value
