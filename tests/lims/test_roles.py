"""The role matrix: every operation of the API, as every role, with valid requests: a role
not allowed an operation never gets a 2xx. New operations must be added to ``ALLOWED``."""

from __future__ import annotations

from lims.models import ROLES
from tests.lims.conftest import PASSWORD
from tests.lims.followup.test_cases import _clinic, _move
from tests.lims.helpers import API, card, decide, flagged_card, specimen_body, upload
from tests.lims.plates import plate_csv
from tests.reports.hl7.builders import REFERENCE

MN = (REFERENCE / "002_MN_OML_O21_NBS.hl7").read_text(encoding="utf-8").replace("\n", "\r")

EVERYONE = set(ROLES)
LAB = {"technician", "admin"}
REVIEW = {"reviewer", "admin"}
STAFF = {"technician", "reviewer", "follow_up", "admin"}
FOLLOW_UP = {"follow_up", "admin"}

#: (method, path) -> roles that may get a 2xx.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/v1/auth/login"): EVERYONE,
    ("GET", "/api/v1/auth/me"): EVERYONE,
    ("GET", "/api/v1/users"): {"admin"},
    ("POST", "/api/v1/users"): {"admin"},
    ("POST", "/api/v1/users/{user_id}/deactivate"): {"admin"},
    ("POST", "/api/v1/users/{user_id}/unlock"): {"admin"},
    ("POST", "/api/v1/auth/logout"): EVERYONE,
    ("GET", "/api/v1/submitters"): EVERYONE,
    ("POST", "/api/v1/submitters"): {"admin"},
    ("GET", "/api/v1/unsatisfactory-codes"): EVERYONE,
    ("GET", "/api/v1/infants"): EVERYONE,
    ("POST", "/api/v1/infants"): LAB,
    ("GET", "/api/v1/infants/{infant_id}"): STAFF,  # the submitter's scope excludes it
    ("GET", "/api/v1/infants/{infant_id}/link-suggestions"): STAFF,
    ("GET", "/api/v1/specimens"): EVERYONE,
    ("POST", "/api/v1/specimens"): LAB,
    # a clinic: only the cards of the cases referred to its clinic
    # (test_a_clinic_reads_only_the_cards_of_its_cases)
    ("GET", "/api/v1/specimens/{specimen_id}"): STAFF,
    ("POST", "/api/v1/specimens/{specimen_id}/unsatisfactory"): LAB,
    ("GET", "/api/v1/repeat-requests"): EVERYONE,
    ("POST", "/api/v1/runs"): LAB,
    ("GET", "/api/v1/runs"): {"technician", "reviewer", "admin"},
    ("GET", "/api/v1/runs/{run_id}"): {"technician", "reviewer", "admin"},
    ("GET", "/api/v1/runs/{run_id}/held-wells"): LAB,
    ("POST", "/api/v1/runs/{run_id}/withdrawal"): LAB,
    ("POST", "/api/v1/runs/{run_id}/sign-off"): LAB,
    ("POST", "/api/v1/held-wells/{held_id}/resolve"): LAB,
    ("POST", "/api/v1/held-wells/attach-arrived"): LAB,
    ("GET", "/api/v1/worklists/duplicates"): LAB,
    ("GET", "/api/v1/worklists/reflex"): LAB,
    ("POST", "/api/v1/second-tier-runs"): LAB,
    ("POST", "/api/v1/second-tier-genotypes"): LAB,
    ("GET", "/api/v1/second-tier-runs"): {"technician", "reviewer", "admin"},
    ("GET", "/api/v1/second-tier-runs/{run_id}"): {"technician", "reviewer", "admin"},
    ("GET", "/api/v1/specimens/{specimen_id}/reflex"): {"technician", "reviewer", "admin"},
    ("GET", "/api/v1/review/queue"): REVIEW,
    ("POST", "/api/v1/specimens/{specimen_id}/decisions"): REVIEW,
    ("GET", "/api/v1/review/release-normals"): REVIEW,
    ("POST", "/api/v1/review/release-normals"): REVIEW,
    ("POST", "/api/v1/specimens/{specimen_id}/corrections"): REVIEW,
    ("GET", "/api/v1/specimens/{specimen_id}/releases"): STAFF,
    ("GET", "/api/v1/alerts"): STAFF,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): {"reviewer", "follow_up", "admin"},
    ("POST", "/api/v1/alerts/escalate"): {"reviewer", "follow_up", "admin"},
    ("GET", "/api/v1/hl7/endpoints"): {"admin"},
    ("POST", "/api/v1/hl7/endpoints"): {"admin"},
    ("PATCH", "/api/v1/hl7/endpoints/{endpoint_id}"): {"admin"},
    ("GET", "/api/v1/hl7/outbox"): {"technician", "reviewer", "admin"},
    ("GET", "/api/v1/hl7/outbox/{message_id}"): {"technician", "reviewer", "admin"},
    ("POST", "/api/v1/hl7/outbox/{message_id}/resend"): {"admin"},
    ("POST", "/api/v1/hl7/orders"): {"technician", "admin", "submitter"},
    ("POST", "/api/v1/hl7/cards"): {"technician", "admin", "submitter"},
    ("GET", "/health"): EVERYONE,
    ("GET", "/api/v1/cases"): EVERYONE,
    ("POST", "/api/v1/cases"): FOLLOW_UP,
    ("GET", "/api/v1/cases/overdue"): STAFF | {"clinic"},
    ("POST", "/api/v1/cases/remind"): FOLLOW_UP,
    ("GET", "/api/v1/cases/{case_id}"): STAFF,  # another submitter's baby, no clinic yet
    ("POST", "/api/v1/cases/{case_id}/contacts"): FOLLOW_UP,
    ("POST", "/api/v1/cases/{case_id}/transitions"): FOLLOW_UP,  # a contacted case: refer
    ("POST", "/api/v1/cases/{case_id}/visits"): set(),  # the case is not in treatment
    ("GET", "/api/v1/cases/{case_id}/letter"): FOLLOW_UP,
    ("POST", "/api/v1/specimens/{specimen_id}/second-tier"): REVIEW,
    ("GET", "/api/v1/clinics"): STAFF | {"clinic"},
    ("POST", "/api/v1/clinics"): FOLLOW_UP,
    ("POST", "/api/v1/clinics/{clinic_id}/users"): {"admin"},
    ("POST", "/api/v1/directors"): {"admin"},
    ("GET", "/api/v1/models"): REVIEW,
    ("POST", "/api/v1/models/{model_id}/activate"): set(),  # no model is registered
    ("GET", "/api/v1/programme/measures"): {"follow_up", "reviewer", "admin"},
    # documents: each kind has its roles (lims.documents.service.VIEWERS), a clinic and a
    # submitter user within their scope only
    ("GET", "/api/v1/documents"): EVERYONE,
    ("GET", "/api/v1/documents/{document_row_id}"): EVERYONE,
    ("GET", "/api/v1/documents/{document_row_id}/versions"): EVERYONE,
    ("POST", "/api/v1/documents/letters"): {"follow_up", "reviewer", "admin", "clinic"},
    ("POST", "/api/v1/documents/results"): STAFF | {"submitter", "clinic"},
    ("POST", "/api/v1/documents/results/batch"): STAFF | {"submitter"},
    ("POST", "/api/v1/documents/qc"): {"technician", "reviewer", "admin"},
    ("POST", "/api/v1/documents/bulletins"): {"follow_up", "reviewer", "admin"},
    ("POST", "/api/v1/documents/report-cards"): {"follow_up", "reviewer", "admin", "submitter"},
    ("POST", "/api/v1/documents/{document_row_id}/corrections"): {"follow_up", "reviewer",
                                                                  "admin"},
    ("PUT", "/api/v1/submitters/{submitter_id}/document-language"): {"admin"},
}


def _request(client, world, method, path, role, n):
    south = world.submitter_ids[1]
    url = path.format(infant_id=1, specimen_id=1, run_id=1, held_id=1, alert_id=1, case_id=1,
                      clinic_id=1, model_id=1, endpoint_id=1, message_id=1,
                      document_row_id=1, submitter_id=south,
                      user_id=999)  # no such user: deactivating one would end its role's calls
    if path == "/api/v1/programme/measures":
        url += "?month=2026-03"
    bodies = {
        "/api/v1/auth/login": {"username": role, "password": PASSWORD},
        "/api/v1/users": {"username": f"u{n}", "full_name": "U", "role": "technician",
                          "password": "long-enough-password"},
        "/api/v1/submitters": {"code": f"S{n}", "name": "Hospital"},
        "/api/v1/infants": {"submitter_id": south, "birth_at": "2026-03-01T08:00:00Z"},
        "/api/v1/specimens": specimen_body(card(500 + n), south),
        "/api/v1/specimens/1/unsatisfactory": {"code": "U01"},
        "/api/v1/held-wells/1/resolve": {"action": "discard", "note": "card lost"},
        "/api/v1/held-wells/attach-arrived": {"note": "cards arrived"},
        "/api/v1/runs/1/withdrawal": {"reason": "smudged"},
        "/api/v1/runs/1/sign-off": {"decision": "accept", "reason": "controls in range"},
        "/api/v1/specimens/1/decisions": {"decision": "refer", "reason": "r",
                                          "password": PASSWORD},
        "/api/v1/review/release-normals": {"password": PASSWORD},
        "/api/v1/specimens/1/corrections": {"reason": "r", "password": PASSWORD},
        "/api/v1/alerts/1/acknowledge": {"full_name": "Dr A", "note": "ward called"},
        "/api/v1/alerts/escalate": None,
        "/api/v1/cases": {"specimen_id": 1, "suspected": ["MSUD"]},
        "/api/v1/cases/remind": None,
        "/api/v1/cases/1/contacts": {"method": "phone", "contacted": "mother",
                                     "result": "reached"},
        "/api/v1/cases/1/transitions": {"transition": "refer", "clinic_id": 1},
        "/api/v1/cases/1/visits": {"kind": "growth"},
        "/api/v1/specimens/1/second-tier": [{"disorder": "MSUD", "decision": "referral"}],
        "/api/v1/clinics": {"code": f"C{n}", "name": "Clinic"},
        "/api/v1/clinics/1/users": {"user_id": 6},
        "/api/v1/directors": {"user_id": 2},
        "/api/v1/models/1/activate": {"password": PASSWORD},
        "/api/v1/hl7/endpoints": {"submitter_id": south, "host": "127.0.0.1", "port": 2575,
                                  "receiving_facility": f"F{n}"},
        "/api/v1/hl7/endpoints/1": {"port": 2576},
        "/api/v1/hl7/outbox/1/resend": None,
        "/api/v1/documents/letters": {"case_id": 1},
        "/api/v1/documents/results": {"specimen_id": 1},
        "/api/v1/documents/results/batch": {"submitter_id": south, "released_on": "2026-03-02"},
        "/api/v1/documents/qc": {"run_id": 1},
        "/api/v1/documents/bulletins": {"month": "2026-03"},
        "/api/v1/documents/report-cards": {"submitter_id": south, "month": "2026-03"},
        "/api/v1/documents/1/corrections": {"reason": "a figure was wrong"},
        f"/api/v1/submitters/{south}/document-language": {"language": "zh-CN"},
        "/api/v1/auth/logout": None,
        "/api/v1/users/999/deactivate": None,
        "/api/v1/users/999/unlock": None,
    }
    headers = world.auth(role)
    if url == "/api/v1/auth/logout":  # a token of its own, so the role's other calls go on
        fresh = client.post(f"{API}/auth/login", json={"username": role, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    if url == "/api/v1/runs" and method == "POST":
        return client.post(url, headers=headers, files={"file": (
            "p.csv", plate_csv(f"P-{n}", {}), "text/csv")})
    if url == "/api/v1/second-tier-runs" and method == "POST":  # not a run: 422 when allowed
        return client.post(url, headers=headers, files={"file": (
            "st.txt", b"not a second-tier run", "text/plain")})
    if url == "/api/v1/second-tier-genotypes":  # no genotype file: 422 when allowed
        return client.post(url, headers=headers, files={"file": (
            "g.csv", b"not,a genotype file\n", "text/csv")})
    if url == "/api/v1/hl7/orders":
        return client.post(url, content=MN.encode(), headers={**headers,
                                                                "Content-Type": "text/plain"})
    if url == "/api/v1/hl7/cards":
        return client.post(url, headers=headers, files={"file": ("cards.csv", (
            "barcode,submitter,collected_at,birth_at\n"
            f"{card(700 + n)},SOUTH,2026-03-02T08:00:00+00:00,2026-03-01T08:00:00+00:00\n"
        ).encode(), "text/csv")})
    if method == "PATCH":
        return client.patch(url, json=bodies[url], headers=headers)
    if method == "PUT":
        return client.put(url, json=bodies[url], headers=headers)
    if method == "POST":
        return client.post(url, json=bodies[url], headers=headers)
    return client.get(url, headers=headers)


def test_every_operation_is_in_the_matrix(client):
    operations = {(m.upper(), p) for p, item in client.get("/openapi.json").json()["paths"]
                  .items() for m in item}
    assert operations == set(ALLOWED)


def test_no_unexpected_2xx(client, world):
    tech = world.auth("technician")
    south = world.submitter_ids[1]
    specimen = client.post(f"{API}/specimens", json=specimen_body(card(1), south), headers=tech)
    assert specimen.status_code == 201
    run = upload(client, world, "p.csv", plate_csv("P-0", {card(1): {"Xle": 900},
                                                           card(2): {}}))
    assert run.json()["n_held"] == 1
    n = 0
    unexpected = []
    for (method, path), allowed in sorted(ALLOWED.items()):
        # forbidden roles first, so the allowed ones find the records as they were
        for role in sorted(set(ROLES) - allowed) + sorted(allowed):
            n += 1
            response = _request(client, world, method, path, role, n)
            assert response.status_code < 500, (method, path, role, response.text)
            if role not in allowed and 200 <= response.status_code < 300:
                unexpected.append((method, path, role, response.status_code))
    assert unexpected == []
    listed = client.get(f"{API}/specimens", headers=world.auth("submitter")).json()
    assert all(s["submitter_id"] == world.submitter_ids[0] for s in listed)


def test_a_clinic_reads_only_the_cards_of_its_cases(client, world):
    """A clinic user reads the card of a case referred to its clinic (and its repeat card),
    not another baby's card, nor the card of a case referred to another clinic."""
    fu, clinic = world.auth("follow_up"), world.auth("clinic")
    referred = flagged_card(client, world, 1, plate="P-C1")
    other = flagged_card(client, world, 2, plate="P-C2")
    for specimen in (referred, other):
        decide(client, world, specimen["id"], "refer")
    mine = _clinic(client, world, "CLINIC-A", world.users["clinic"])
    theirs = client.post(f"{API}/clinics", json={"code": "CLINIC-B", "name": "B clinic"},
                         headers=fu).json()["id"]
    cases = {c["specimen_id"]: c["id"] for c in client.get(f"{API}/cases", headers=fu).json()}
    assert client.get(f"{API}/specimens/{referred['id']}", headers=clinic).status_code == 404
    for specimen, clinic_id in ((referred, mine), (other, theirs)):
        case_id = cases[specimen["id"]]
        assert client.post(f"{API}/cases/{case_id}/contacts", json={
            "method": "phone", "contacted": "mother", "result": "reached"},
            headers=fu).status_code == 201
        assert _move(client, world, case_id, "follow_up", transition="refer",
                     clinic_id=clinic_id).status_code == 200
    read = client.get(f"{API}/specimens/{referred['id']}", headers=clinic)
    assert read.status_code == 200, read.text
    assert read.json()["barcode"] == card(1)
    assert client.get(f"{API}/specimens/{other['id']}", headers=clinic).status_code == 404
    assert client.get(f"{API}/specimens", headers=clinic).json() == []
