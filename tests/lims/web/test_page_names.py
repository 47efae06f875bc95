"""The pages name a card by its barcode and a baby by its mother's name and medical record
number, never by a database id (SQLite and PostgreSQL): the worklists' repeat cards requested,
the review queue, a unit's cards and results and its baby's page."""

from __future__ import annotations

import re

from sqlmodel import Session

from lims.accession.service import request_repeat
from lims.audit import SYSTEM
from lims.models import Specimen
from tests.lims.documents.test_documents import _referred
from tests.lims.helpers import API, BIRTH, card, specimen_body
from tests.lims.web.conftest import sign_in_page

MOTHER, RECORD = "Chen Jing", "MRN-7781"


def _table(html: str, table_id: str) -> str:
    return html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def _link_texts(section: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", t).split())
        for t in re.findall(r"<a [^>]*>(.*?)</a>", section, re.S)
    ]


def _card_with_repeat_request(client, world, engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    north = world.submitter_ids[0]
    made = client.post(
        f"{API}/specimens",
        headers=world.auth("technician"),
        json=specimen_body(
            card(7),
            north,
            infant={
                "submitter_id": north,
                "birth_at": BIRTH.isoformat(),
                "sex": "F",
                "mother_name": MOTHER,
                "mother_id": "M-7",
                "medical_record_number": RECORD,
            },
        ),
    )
    assert made.status_code == 201, made.text
    with Session(engine) as session:
        specimen = session.get(Specimen, made.json()["id"])
        assert specimen is not None
        request_repeat(session, SYSTEM, specimen, "card arrived soaked through")
        session.commit()
    return made.json()


def test_the_worklists_name_a_repeat_request_by_its_card_and_baby(client, web, world, engine):
    made = _card_with_repeat_request(client, world, engine)
    sign_in_page(web, "technician")
    rows = _table(web.get("/lab/worklists").text, "repeat-requests")
    assert "card arrived soaked through" in rows
    assert _link_texts(rows) == [card(7)]
    assert f'href="/lab/specimens/{made["id"]}"' in rows
    assert MOTHER in rows and RECORD in rows


def test_a_unit_names_its_babies_by_mother_and_record_number(client, web, world, engine):
    made = _card_with_repeat_request(client, world, engine)
    sign_in_page(web, "submitter")
    home = web.get("/unit").text
    results = _table(home, "results")
    row = results.split(f'data-specimen="{made["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert _link_texts(row) == [f"{MOTHER} {RECORD}"]
    assert f'href="/unit/babies/{made["infant_id"]}"' in row
    assert _link_texts(_table(home, "repeat-requests")) == [card(7)]
    baby = web.get(f"/unit/babies/{made['infant_id']}").text
    heading = re.search(r"<h1>(.*?)</h1>", baby, re.S).group(1)
    assert MOTHER in heading and RECORD in heading
    assert f">{made['infant_id']}<" not in heading


def test_the_audit_trail_names_the_baby_and_the_card(client, web, world, engine):
    made = _card_with_repeat_request(client, world, engine)
    sign_in_page(web, "admin")
    page = web.get("/lab/audit", params={"infant_id": made["infant_id"]}).text
    cells = re.findall(
        r'<a href="/lab/audit\?infant_id=(\d+)" data-infant="\d+">(.*?)</a>',
        _table(page, "audit"),
        re.S,
    )
    assert cells and {int(i) for i, _ in cells} == {made["infant_id"]}
    assert {" ".join(re.sub(r"<[^>]+>", " ", t).split()) for _, t in cells} == {
        f"{MOTHER} {RECORD}"
    }
    # the card's events name it by its barcode, linked to its page
    assert f'Card <a href="/lab/specimens/{made["id"]}">{card(7)}</a>' in page


def test_a_units_baby_page_shows_its_cases_in_words(client, web, world):
    specimen = _referred(client, world)
    sign_in_page(web, "submitter")
    web.post("/language", data={"lang": "zh_CN", "next": "/unit"})
    page = web.get(f"/unit/babies/{specimen['infant_id']}").text
    rows = _table(page, "cases").split("</thead>", 1)[1]
    row = next(r for r in rows.split("</tr>") if "<td>" in r)
    assert "转诊" in row and "已开立" in row
    assert not re.search(r"<td>(referral|opened|contact_family)</td>", row), row
