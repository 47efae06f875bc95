"""The audit view: who read or changed a baby's record, for admins and directors only."""

from __future__ import annotations

import re

from sqlmodel import Session

from lims.models import Director, utcnow
from tests.lims.helpers import card
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession


def _events(html: str) -> list[tuple[str, str, str]]:
    body = html.split('id="audit"')[1].split("</table>")[0]
    return [tuple(re.sub(r'<span data-action="([^"]+)">.*?</span>', r"\1", c).strip()
                  for c in cells[1:4]) for cells in (
        re.findall(r"<td>(.*?)</td>", row, re.S)
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)) if len(cells) >= 4]


def test_who_read_or_changed_a_babys_record(web, world, engine):
    csrf = sign_in_page(web, "technician")
    created = _accession(web, csrf, card(1))
    specimen_id = re.search(r'href="/lab/specimens/(\d+)"', created.text).group(1)
    _accession(web, csrf, card(2), mother_name="Zhao Min", mother_id="M-88")
    web.get("/lab/search", params={"q": "M-77"})  # one baby: its own event
    web.get("/lab/search", params={"q": "00000"})  # both babies: a list read naming both
    assert web.get("/lab/audit").status_code == 403
    web.cookies.clear()
    sign_in_page(web, "admin")
    page = web.get(f"/lab/specimens/{specimen_id}").text
    infant = re.search(r'/lab/audit\?infant_id=(\d+)', page).group(1)
    events = _events(web.get("/lab/audit", params={"infant_id": infant}).text)
    actions = [(user, action) for user, action, _ in events]
    assert ("technician", "create") in actions  # the card and the baby created
    assert actions.count(("technician", "read_list")) == 2  # both searches showed this baby
    assert ("admin", "read") in actions
    other = _events(web.get("/lab/audit", params={"infant_id": str(int(infant) + 1)}).text)
    assert [a for u, a, _ in other if u == "technician"].count("read_list") == 1
    only_admin = _events(web.get("/lab/audit", params={"username": "admin",
                                                       "action": "read"}).text)
    assert only_admin and {(u, a) for u, a, _ in only_admin} == {("admin", "read")}
    assert web.get("/lab/audit", params={"since": "yesterday"}).status_code == 422
    today = utcnow().date().isoformat()
    assert _events(web.get("/lab/audit", params={"since": today, "until": today}).text)
    # a reviewer reads the trail only as a director
    web.cookies.clear()
    sign_in_page(web, "reviewer")
    assert web.get("/lab/audit").status_code == 403
    with Session(engine) as session:
        session.add(Director(user_id=world.users["reviewer"].id, granted_by_name="admin",
                             granted_at=utcnow()))
        session.commit()
    assert web.get("/lab/audit", params={"infant_id": infant}).status_code == 200


def _infants(html: str) -> set[str]:
    body = html.split('id="audit"')[1].split("</table>")[0]
    return set(re.findall(r'data-infant="(\d+)"', body))


def test_the_baby_filter_takes_the_record_number_or_the_mothers_name(web, world):
    csrf = sign_in_page(web, "technician")
    _accession(web, csrf, card(1))  # Wang Fang, record number MRN-5
    _accession(web, csrf, card(2), mother_name="Zhao Min", mother_id="M-88",
               medical_record_number="MRN-9")
    _accession(web, csrf, card(3), mother_name="Li Na", mother_id="M-99")  # MRN-5 as well
    web.cookies.clear()
    sign_in_page(web, "admin")

    page = web.get("/lab/audit", params={"baby": " MRN-9 "})
    assert page.status_code == 200
    assert 'value="MRN-9"' in page.text  # the form keeps what was typed
    assert "Zhao Min" in page.text.split('id="audit-baby"')[1].split("</p>")[0]
    (infant,) = _infants(page.text)
    technician = [e for e in _events(page.text) if e[0] == "technician"]
    assert ("technician", "create", ) in [e[:2] for e in technician]
    by_id = web.get("/lab/audit", params={"infant_id": infant}).text
    assert [e for e in _events(by_id) if e[0] == "technician"] == technician
    assert _infants(by_id) == {infant}
    assert "Zhao Min" in by_id.split('id="audit-baby"')[1].split("</p>")[0]
    by_mother = web.get("/lab/audit", params={"baby": "zhao min"}).text
    assert [e for e in _events(by_mother) if e[0] == "technician"] == technician

    shared = web.get("/lab/audit", params={"baby": "MRN-5", "username": "technician"}).text
    choices = shared.split('id="audit-babies"')[1].split("</ul>")[0]
    assert "Wang Fang" in choices and "Li Na" in choices and "Zhao Min" not in choices
    assert _events(shared) == []  # no trail until one is chosen
    links = re.findall(r'href="/lab/audit\?([^"]+)"', choices)
    assert len(links) == 2 and all("username=technician" in link for link in links)
    chosen = web.get("/lab/audit?" + links[0].replace("&amp;", "&")).text
    assert len(_infants(chosen)) == 1 and _events(chosen)
    assert {e[0] for e in _events(chosen)} == {"technician"}

    unknown = web.get("/lab/audit", params={"baby": "MRN-404"})
    assert unknown.status_code == 200 and 'id="audit-baby-unknown"' in unknown.text
    assert _events(unknown.text) == []
    chinese = web.get("/lab/audit", params={"baby": "MRN-5"},
                      headers={"Accept-Language": "zh-CN"}).text
    assert "婴儿（病历号或母亲姓名）" in chinese and "请选择一个" in chinese
