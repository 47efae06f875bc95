"""The laboratory's safety rules on the pages and the API: the accession form never chooses the
submitter for the technician (a card without one is refused naming the field, in English and
Chinese); nothing from a rejected plate reaches a card; the bulk release holds back open cases
and plates not signed off; held wells attached in one action once their cards exist; a card
file cut short is named as such; an alert is acknowledged only with a note; a plate with
released results says how to correct them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lims.audit import Actor, record
from lims.models import Alert, AuditEvent, HeldWell, Result, Run, Specimen
from tests.lims.conftest import PASSWORD, World
from tests.lims.helpers import accession, card, open_alert, sign_off_plates, upload
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import CARD_FORM, _accession, _upload

API = "/api/v1"


def test_the_accession_form_never_chooses_the_submitter(web, world, engine):
    csrf = sign_in_page(web, "technician")
    page = web.get("/lab/accession").text
    select_ = re.search(r'<select name="submitter_id" required>(.*?)</select>', page, re.S)
    assert select_, "no submitter menu"
    options = re.findall(r"<option ([^>]*)>([^<]*)</option>", select_.group(1))
    assert options[0] == ('value="" selected', "choose the submitter"), options[0]
    assert all("selected" not in attributes for attributes, _ in options[1:]), options
    assert len(options) == 1 + len(world.submitter_ids)
    for missing in ({}, {"submitter_id": ""}, {"submitter_id": " "}):
        form = {k: v for k, v in CARD_FORM.items() if k != "submitter_id"}
        refused = web.post("/lab/accession", data={**form, **missing, "csrf_token": csrf,
                                                   "barcode": card(41)})
        assert refused.status_code == 422, refused.text[:300]
        shown = refused.text.split('role="alert">')[1].split("</p>")[0]
        assert shown == ("field submitter_id: choose the submitter (the hospital or unit that "
                         "sent the card)"), shown
        assert 'value="Wang Fang"' in refused.text  # the form keeps what was typed
    chinese = web.post("/lab/accession", headers={"Accept-Language": "zh-CN"}, data={
        **{k: v for k, v in CARD_FORM.items() if k != "submitter_id"}, "csrf_token": csrf,
        "barcode": card(41)})
    assert chinese.status_code == 422
    shown = chinese.text.split('role="alert">')[1].split("</p>")[0]
    assert shown == "字段 submitter_id：请选择送检单位（送检血片的医院或单位）", shown
    assert '<option value="" selected>请选择送检单位</option>' in chinese.text
    with Session(engine) as session:
        assert session.exec(select(Specimen).where(Specimen.barcode == card(41))).all() == []
    # chosen, the card is stored with that submitter, and the form shows the choice if refused
    second = str(world.submitter_ids[1])
    kept = _accession(web, csrf, card(41), submitter_id=second, birth_weight_g="9")
    assert kept.status_code == 422
    assert f'<option value="{second}" selected>' in kept.text
    assert '<option value="" >' in kept.text
    assert _accession(web, csrf, card(41), submitter_id=second).status_code == 201
    with Session(engine) as session:
        stored = session.exec(select(Specimen).where(Specimen.barcode == card(41))).one()
        assert stored.submitter_id == world.submitter_ids[1]


def _held_table(html: str) -> str:
    return html.split('id="held-wells"')[1].split("</table>")[0]


def _held_ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {h.sample_id: h.id for h in session.exec(select(HeldWell)) if h.id}


def test_a_rejected_plate_gives_none_of_its_held_wells_to_a_card(
        web: TestClient, client: TestClient, world: World, engine: Engine) -> None:
    csrf = sign_in_page(web, "technician")
    upload = _upload(web, csrf, "r.csv", plate_csv("REJ-1", {card(7): {}, card(8): {}}))
    run_url = upload.headers["location"]
    assert _held_table(web.get("/lab/worklists").text).count("data-held=") == 2
    rejected = web.post(f"{run_url}/qc", data={"csrf_token": csrf, "decision": "reject",
                                               "reason": "spots punched from the wrong rack"})
    assert rejected.status_code == 200 and 'id="qc-decision">reject' in rejected.text
    assert "spots punched from the wrong rack" in rejected.text
    assert "Nothing waiting" in _held_table(web.get("/lab/worklists").text)
    held = _held_ids(engine)
    assert _accession(web, csrf, card(7)).status_code == 201
    page = web.post(f"/lab/held-wells/{held[card(7)]}/resolve", data={
        "csrf_token": csrf, "action": "attach", "barcode": card(7), "note": "card arrived"})
    assert page.status_code == 409 and "worklist-error" in page.text
    assert "REJ-1" in page.text and "rejected" in page.text and "new plate" in page.text
    api = client.post(f"{API}/held-wells/{held[card(7)]}/resolve", headers=world.auth(
        "technician"), json={"action": "attach", "barcode": card(7), "note": "card arrived"})
    assert api.status_code == 409 and "REJ-1" in api.json()["detail"]
    with Session(engine) as session:
        assert {h.status for h in session.exec(select(HeldWell))} == {"discarded"}
        assert session.exec(select(Result)).first() is None
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(7))).one()
        assert specimen.state == "accessioned"
        run = session.exec(select(Run)).one()
        assert run.qc_decision == "reject"
        discards = session.exec(select(AuditEvent).where(
            AuditEvent.entity == "held_well", AuditEvent.action == "discard")).all()
        assert len(discards) == 2 and all("REJ-1" in e.reason for e in discards)
    assert client.get(f"{API}/review/release-normals",
                      headers=world.auth("reviewer")).json()["count"] == 0
    # the plate takes a new file, whose wells go to the card as any plate's
    again = _upload(web, csrf, "r2.csv", plate_csv("REJ-1", {card(7): {}, card(9): {}}))
    assert again.status_code == 303
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(7))).one()
        assert specimen.state == "awaiting_review"


def test_a_plate_whose_last_sign_off_is_a_rejection_gives_no_well(
        web: TestClient, world: World, engine: Engine) -> None:
    """Rows stored before a technician's rejection rejected the run itself: the sign-off
    alone refuses the attach."""
    csrf = sign_in_page(web, "technician")
    _upload(web, csrf, "o.csv", plate_csv("OLD-1", {card(7): {}}))
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        record(session, Actor.of(world.users["technician"]), "qc_reject", "run", run.id,
               reason="smudged")
        session.commit()
    assert _accession(web, csrf, card(7)).status_code == 201
    held = _held_ids(engine)
    page = web.post(f"/lab/held-wells/{held[card(7)]}/resolve", data={
        "csrf_token": csrf, "action": "attach", "barcode": card(7), "note": "card arrived"})
    assert page.status_code == 409 and "OLD-1" in page.text and "smudged" in page.text
    with Session(engine) as session:
        assert session.exec(select(Result)).first() is None


def _release_normals_form(page: str) -> dict[str, str]:
    form = page.split('id="release-normals"', 1)[1]
    return {name: re.search(rf'name="{name}" value="([^"]*)"', form).group(1)  # type: ignore[union-attr]
            for name in ("count", "digest")}


def test_the_bulk_release_holds_back_open_cases_and_plates_not_signed_off(
        web: TestClient, client: TestClient, world: World, engine: Engine) -> None:
    cards = accession(client, world, 1, 2, 3, 4)
    assert upload(client, world, "b1.csv", plate_csv(
        "BULK-1", {card(1): {}, card(2): {}, card(3): {}})).status_code == 201
    case = client.post(f"{API}/cases", headers=world.auth("follow_up"), json={
        "specimen_id": cards[2]["id"], "suspected": ["MSUD"]})
    assert case.status_code == 201, case.text
    reviewer = world.auth("reviewer")
    waiting = client.get(f"{API}/review/release-normals", headers=reviewer).json()
    assert waiting["count"] == 0 and waiting["held_back_not_signed_off"] == 3
    assert waiting["held_back_open_case"] == 1
    assert [p["plate_id"] for p in waiting["unsigned_plates"]] == ["BULK-1"]
    csrf = sign_in_page(web, "reviewer")
    page = web.get("/lab/review").text
    held = page.split('id="normals-held-back"')[1].split("</ul>")[0]
    assert 'data-why="open_case" data-count="1"' in held
    assert 'data-why="not_signed_off" data-count="3"' in held and "BULK-1</a> (3)" in held
    assert card(2) in page.split('id="queue"')[1].split("</table>")[0]  # to decide alone
    assert _release_normals_form(page)["count"] == "0"
    refused = client.post(f"{API}/review/release-normals", headers=reviewer,
                          json={"password": PASSWORD})
    assert refused.json()["released_specimen_ids"] == []
    assert sign_off_plates(client, world.auth("technician"))
    assert upload(client, world, "b2.csv", plate_csv("BULK-2", {card(4): {}})).status_code == 201
    page = web.get("/lab/review").text
    counted = _release_normals_form(page)
    assert counted["count"] == "2" and "BULK-2</a> (1)" in page
    released = web.post("/lab/review/release-normals", data={
        "csrf_token": csrf, "password": PASSWORD, **counted})
    assert "2 normal results released" in released.text
    states = {n: client.get(f"{API}/specimens/{cards[n]['id']}", headers=reviewer).json()[
        "state"] for n in (1, 2, 3, 4)}
    assert states == {1: "released", 2: "awaiting_review", 3: "released",
                      4: "awaiting_review"}
    # a single card is the reviewer's own decision: its plate's sign-off is not awaited
    for n in (2, 4):
        decided = client.post(f"{API}/specimens/{cards[n]['id']}/decisions", headers=reviewer,
                              json={"decision": "release_normal", "password": PASSWORD})
        assert decided.status_code == 201, decided.text


def test_every_held_well_whose_card_arrived_is_attached_in_one_action(
        web: TestClient, client: TestClient, world: World, engine: Engine) -> None:
    csrf = sign_in_page(web, "technician")
    _upload(web, csrf, "late.csv", plate_csv("LATE-1", [
        (card(7), {}), (card(8), {}), (card(9), {"Phe": 150}), (card(9), {"Phe": 160})]))
    before = _held_table(web.get("/lab/worklists").text)
    assert before.count("unknown barcode: no accessioned card") == 4
    assert 'id="attach-arrived"' not in web.get("/lab/worklists").text
    for n in (7, 9):
        assert _accession(web, csrf, card(n)).status_code == 201
    page = web.get("/lab/worklists").text
    rows = _held_table(page)
    assert rows.count("card now accessioned: ready to attach") == 3
    assert rows.count("unknown barcode: no accessioned card") == 1  # card 8 has not arrived
    assert "3 held wells have a card accessioned since" in page
    no_note = web.post("/lab/held-wells/attach-arrived", data={"csrf_token": csrf, "note": " "})
    assert no_note.status_code == 422 and "note" in no_note.text
    done = web.post("/lab/held-wells/attach-arrived", data={
        "csrf_token": csrf, "note": "cards of the late courier arrived"})
    assert done.status_code == 200 and "3 held wells attached to their cards" in done.text
    rows = _held_table(done.text)
    assert card(8) in rows and card(7) not in rows and card(9) not in rows
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.entity == "held_well", AuditEvent.action == "attach")).all()
        assert len(events) == 3
        assert {e.reason for e in events} == {"cards of the late courier arrived"}
        states = {s.barcode: s.state for s in session.exec(select(Specimen))}
        assert states == {card(7): "awaiting_review", card(9): "awaiting_duplicate"}
        assert len({r.well for r in session.exec(select(Result))}) == 3
    again = client.post(f"{API}/held-wells/attach-arrived", headers=world.auth("technician"),
                        json={"note": "again"})
    assert again.status_code == 200 and again.json() == []
    assert _accession(web, csrf, card(8)).status_code == 201
    api = client.post(f"{API}/held-wells/attach-arrived", headers=world.auth("technician"),
                      json={"note": "card 8 found"})
    assert [(w["sample_id"], w["status"]) for w in api.json()] == [(card(8), "attached")]
    assert api.json()[0]["specimen_id"]


def test_a_card_file_cut_short_is_refused_naming_the_line_and_nothing_is_stored(
        web: TestClient, world: World, engine: Engine) -> None:
    csrf = sign_in_page(web, "technician")
    header = "barcode,submitter,collected_at,birth_at,sex\n"
    whole = "".join(f"{card(n)},NORTH,2026-03-02T20:00Z,2026-03-01T08:00Z,M\n"
                    for n in (1, 2))
    cut = whole + f"{card(3)},NORTH,2026"
    refused = web.post("/lab/accession/import", data={"csrf_token": csrf},
                       files={"file": ("cards9_trunc.csv", (header + cut).encode(), "text/csv")})
    assert refused.status_code == 422
    assert "cards9_trunc.csv" in refused.text and ":4" in refused.text
    assert "line 4 has 3 of 5 fields (the file may be cut short)" in refused.text
    assert "isoformat" not in refused.text
    with Session(engine) as session:
        assert session.exec(select(Specimen)).first() is None


def test_a_time_critical_alert_is_not_acknowledged_without_a_note(
        web: TestClient, client: TestClient, world: World, engine: Engine) -> None:
    cards = accession(client, world, 1)
    alert_id = open_alert(engine, cards[1]["id"])
    api = client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=world.auth("reviewer"),
                      json={"full_name": "Dr Zhou", "note": "  "})
    assert api.status_code == 422 and api.json()["field"] == "note"
    assert "what was done about the alert" in api.json()["detail"]
    csrf = sign_in_page(web, "reviewer")
    page = web.get("/lab/alerts").text
    assert re.search(r'<input name="note" required[^>]*>', page)
    refused = web.post(f"/lab/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf,
                                                                     "note": ""})
    assert refused.status_code == 422 and "what was done about the alert" in refused.text
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status == "open"
    done = web.post(f"/lab/alerts/{alert_id}/acknowledge", data={
        "csrf_token": csrf, "note": "ward called, baby on the way"})
    assert done.status_code == 200
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status == "acknowledged"
        assert alert.acknowledgement_note == "ward called, baby on the way"


def test_a_plate_with_released_results_says_on_the_page_how_to_correct_them(
        web: TestClient, client: TestClient, world: World) -> None:
    cards = accession(client, world, 1, 2)
    assert upload(client, world, "w.csv", plate_csv(
        "WD-1", {card(1): {}, card(2): {"Xle": 900}})).status_code == 201
    decided = client.post(f"{API}/specimens/{cards[2]['id']}/decisions", json={
        "decision": "refer", "reason": "MSUD", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    csrf = sign_in_page(web, "technician")
    run_id = client.get(f"{API}/runs", headers=world.auth("technician")).json()[0]["id"]
    refused = web.post(f"/lab/runs/{run_id}/withdraw", data={"csrf_token": csrf,
                                                             "reason": "wrong rack"})
    assert refused.status_code == 409
    error = refused.text.split('id="qc-error">')[1].split("</p>")[0]
    assert card(2) in error and card(1) not in error and "WD-1" in error
    assert "(Search)" in error and "Correct the released result" in error
    assert "/specimens/" not in error and "POST" not in error
    web.post("/language", data={"lang": "zh_CN", "next": f"/lab/runs/{run_id}"})
    chinese = web.post(f"/lab/runs/{run_id}/withdraw", data={"csrf_token": csrf,
                                                             "reason": "wrong rack"})
    error = chinese.text.split('id="qc-error">')[1].split("</p>")[0]
    assert chinese.status_code == 409 and card(2) in error
    assert "无法撤回" in error and "更正已发布的结果" in error and "查找" in error
    api = client.post(f"{API}/runs/{run_id}/withdrawal", json={"reason": "wrong rack"},
                      headers=world.auth("technician"))
    assert api.status_code == 409 and card(2) in api.json()["detail"]
