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
