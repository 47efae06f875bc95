"""The card context the reflex second tier reads (parenteral nutrition's start and stop, a
pivalate exposure, the mother's vitamin B12 status and diet, a known maternal disorder) comes
in by every way a card does, with a refusal naming the field, on SQLite and PostgreSQL: the
hospital's OML^O21 order (the laboratory's local OBX questions) and the submitter's card CSV
(the accession form: tests/lims/web/test_accession_context.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from lims.models import Specimen
from reports.hl7.er7 import format_dtm
from tests.lims.helpers import API, card
from tests.lims.interfaces.test_card_data import (  # noqa: F401  (minnesota: a fixture)
    BARCODE,
    MN,
    counts,
    minnesota,
    post,
    recent,
)


def _stored(engine, barcode: str) -> Specimen:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(Specimen).where(Specimen.barcode == barcode)).one()


def _with_context(message: str, *values: tuple[str, str, str]) -> str:
    """The order with OBX segments of the laboratory's local questions appended after the
    order's own twelve."""
    rows = [f"OBX|{13 + i}|{kind}|{code}^{code}^L|1|{value}||||||O"
            for i, (code, kind, value) in enumerate(values)]
    return message.rstrip("\r") + "\r" + "\r".join(rows) + "\r"


def test_an_order_carries_the_card_context(client, world, engine, minnesota):  # noqa: F811
    now = datetime.now(UTC).replace(microsecond=0)
    started, stopped = now - timedelta(days=2, hours=12), now - timedelta(hours=6)
    order = _with_context(recent(MN, "CTX-1"),
                          ("NBS-TPN-START", "TS", format_dtm(started)),
                          ("NBS-TPN-STOP", "TS", format_dtm(stopped)),
                          ("NBS-PIVALATE", "CWE", "Y^Yes^HL70136"),
                          ("NBS-MAT-B12-LOW", "CWE", "Y^Yes^HL70136"),
                          ("NBS-MAT-DIET", "ST", "vegan"),
                          ("NBS-MAT-DISORDER", "ST", "pernicious anaemia"))
    taken = post(client, world, order)
    assert taken.status_code == 200 and "MSA|AA|CTX-1" in taken.text, taken.text
    specimen = _stored(engine, BARCODE)
    assert specimen.tpn_started_at is not None and specimen.tpn_stopped_at is not None
    assert specimen.tpn_started_at.replace(tzinfo=UTC) == started
    assert specimen.tpn_stopped_at.replace(tzinfo=UTC) == stopped
    assert (specimen.pivalate_exposure, specimen.maternal_b12_low, specimen.maternal_diet,
            specimen.maternal_disorder) == (True, True, "vegan", "pernicious anaemia")

    # refusals name the OBX the value came from, and change nothing
    before = counts(engine)
    flag = post(client, world, _with_context(recent(MN, "CTX-2"),
                                             ("NBS-PIVALATE", "CWE", "maybe")))
    assert flag.status_code == 422 and "ERR||OBX^13^5^1|" in flag.text, flag.text
    backwards = post(client, world, _with_context(
        recent(MN, "CTX-3"), ("NBS-TPN-START", "TS", format_dtm(stopped)),
        ("NBS-TPN-STOP", "TS", format_dtm(started))))
    assert backwards.status_code == 422 and "ERR||OBX^14^5^1|" in backwards.text
    assert "stopped before it started" in backwards.text
    twice = post(client, world, _with_context(recent(MN, "CTX-4"),
                                              ("NBS-MAT-DIET", "ST", "vegan"),
                                              ("NBS-MAT-DIET", "ST", "vegetarian")))
    assert twice.status_code == 422 and "ERR||OBX^14^3^1|" in twice.text
    assert counts(engine) == before
    # a later order of the card (not yet tested) changes its context
    later = post(client, world, _with_context(recent(MN, "CTX-5"),
                                              ("NBS-PIVALATE", "CWE", "N")))
    assert later.status_code == 200, later.text
    specimen = _stored(engine, BARCODE)
    assert (specimen.pivalate_exposure, specimen.maternal_b12_low,
            specimen.tpn_started_at) == (False, False, None)


def _cards(*rows: str) -> bytes:
    header = ("barcode,submitter,collected_at,birth_at,tpn_started_at,tpn_stopped_at,"
              "pivalate_exposure,maternal_b12_low,maternal_diet,maternal_disorder")
    return ("\n".join([header, *rows]) + "\n").encode()


def test_a_card_csv_carries_the_card_context(client, world, engine):
    now = datetime.now(UTC).replace(microsecond=0)
    born, taken = now - timedelta(days=2), now - timedelta(days=1)
    start, stop = (born + timedelta(hours=3)).isoformat(), (now - timedelta(hours=2)).isoformat()
    tech = world.auth("technician")

    def send(data: bytes):  # type: ignore[no-untyped-def]
        return client.post(f"{API}/hl7/cards", files={"file": ("ctx.csv", data, "text/csv")},
                           headers=tech)

    row = f"{card(1)},NORTH,{taken.isoformat()},{born.isoformat()}"
    bad_flag = send(_cards(f"{row},{start},{stop},sometimes,0,,"))
    assert bad_flag.status_code == 422
    assert (bad_flag.json()["line"], bad_flag.json()["field"]) == (2, "pivalate_exposure")
    other = f"{card(2)},NORTH,{taken.isoformat()},{born.isoformat()}"
    backwards = send(_cards(f"{row},{start},{stop},yes,1,vegan,",
                            f"{other},{stop},{start},0,0,,"))
    assert backwards.status_code == 422
    assert (backwards.json()["line"], backwards.json()["field"]) == (3, "tpn_stopped_at")
    long_diet = send(_cards(f"{row},,,0,0,{'x' * 33},"))
    assert long_diet.status_code == 422 and long_diet.json()["field"] == "maternal_diet"
    with Session(engine) as session:
        assert not session.exec(select(Specimen)).all()

    done = send(_cards(f"{row},{start},{stop},yes,1,vegan,\"hypothyroidism, treated\""))
    assert done.status_code == 201, done.text
    specimen = _stored(engine, card(1))
    assert specimen.tpn_started_at is not None
    assert specimen.tpn_started_at.replace(tzinfo=UTC).isoformat() == start
    assert (specimen.pivalate_exposure, specimen.maternal_b12_low, specimen.maternal_diet,
            specimen.maternal_disorder) == (True, True, "vegan", "hypothyroidism, treated")
