"""The result messages page: every released version's HL7 message with its delivery status,
filtered by status; an admin sends a parked message again, and no other role can."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from lims.interfaces.delivery import deliver_once
from lims.models import AuditEvent, OutboundMessage
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import card
from tests.lims.interfaces.conftest import (  # noqa: F401 (fixtures)
    QUICK,
    answer,
    endpoint,
    receiver,
    release,
)
from tests.lims.web.conftest import sign_in_page


def _rows(html: str) -> list[list[str]]:
    body = html.split('id="messages"')[1].split("</table>")[0]
    rows = ([re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row,
                                                                      re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S))
    return [row for row in rows if row]


def test_the_delivery_of_each_message_and_a_parked_one_sent_again(  # type: ignore[no-untyped-def]
        client, web, world, engine, endpoint, receiver):  # noqa: F811
    release(client, world, "P-1", {1: {}, 2: {}})
    with Session(engine) as session:
        first, second = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    receiver.reply = lambda text: answer(text, "AR" if first.control_id in text else "AA")
    report = deliver_once(engine, QUICK)
    assert (report.parked, report.delivered) == (1, 1)

    csrf = sign_in_page(web, "technician")
    rows = _rows(web.get("/lab/messages").text)
    assert {(r[0], r[3]) for r in rows} == {(first.control_id, "parked"),
                                            (second.control_id, "delivered")}
    [parked] = _rows(web.get("/lab/messages", params={"status": "parked"}).text)
    assert parked[0] == first.control_id and parked[4] == "1"  # one attempt, answered AR
    assert "Send again" not in web.get("/lab/messages").text
    refused = web.post(f"/lab/messages/{first.id}/resend", data={"csrf_token": csrf})
    assert refused.status_code == 403

    web.cookies.clear()
    csrf = sign_in_page(web, "admin")
    assert web.post(f"/lab/messages/{first.id}/resend", data={}).status_code == 403  # no CSRF
    resent = web.post(f"/lab/messages/{first.id}/resend", data={"csrf_token": csrf})
    assert resent.status_code == 200 and resent.url.path == "/lab/messages"
    assert _rows(resent.text) == [["No message."]]  # nothing parked any more
    again = web.post(f"/lab/messages/{first.id}/resend", data={"csrf_token": csrf})
    assert again.status_code == 409 and "only a parked message" in again.text
    with Session(engine) as session:
        assert session.get(OutboundMessage, first.id).status == "pending"
        actions = session.exec(select(AuditEvent.action).where(
            AuditEvent.entity == "outbound_message")).all()
    assert "resend" in actions and "read_list" in actions


def test_the_page_in_chinese(client, web, world, engine):  # type: ignore[no-untyped-def]
    release(client, world, "P-1", {1: {}})
    sign_in_page(web, "reviewer")
    web.cookies.set("nbs_lang", "zh_CN")
    page = web.get("/lab/messages").text
    assert "结果消息" in page and "待发送" in page
    assert web.get("/lab/messages", params={"status": "nonsense"}).status_code == 200


def test_a_pending_message_says_why_it_waits(client, web, world, engine):  # type: ignore[no-untyped-def]
    release(client, world, "P-2", {3: {}})
    sign_in_page(web, "technician")
    [row] = _rows(web.get("/lab/messages").text)
    assert row[1] == card(3)  # the card by its barcode, not the database id
    assert row[3] == "pending"
    assert row[8].startswith("no HL7 endpoint for this submitter")
    api = client.get("/api/v1/hl7/outbox", headers=world.auth("technician"))
    assert api.status_code == 200, api.text
    assert api.json()[0]["waiting_for"].startswith("no HL7 endpoint")


def test_a_withheld_message_says_why_in_the_page_s_language(client, web, world, engine):  # type: ignore[no-untyped-def]
    specimen_id = release(client, world, "P-3", {4: {}})[4]["id"]
    corrected = client.post(f"/api/v1/specimens/{specimen_id}/corrections", json={
        "reason": "wrong value entered", "password": PASSWORD}, headers=world.auth("reviewer"))
    assert corrected.status_code == 200, corrected.text
    sign_in_page(web, "technician")
    [row] = _rows(web.get("/lab/messages", params={"status": "withheld"}).text)
    assert (row[3], row[8]) == ("withheld", "withheld: version 1 was reopened for correction by "
                                "reviewer before it was delivered (wrong value entered)")
    web.cookies.set("nbs_lang", "zh_CN")
    [row] = _rows(web.get("/lab/messages", params={"status": "withheld"}).text)
    assert (row[3], row[8]) == ("已扣发", "已扣发：第 1 版在送达前已由 reviewer 重新打开更正"
                                "（wrong value entered）")
