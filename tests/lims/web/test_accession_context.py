"""The accession form takes the card context the reflex second tier reads, refusing a value
naming its field and keeping what was typed, in English and Simplified Chinese."""

from __future__ import annotations

from sqlmodel import Session, select

from lims.models import Specimen
from tests.lims.helpers import card
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import CARD_FORM


def test_the_accession_form_takes_the_card_context(web, world, engine):
    csrf = sign_in_page(web, "technician")
    page = web.get("/lab/accession")
    assert 'id="reflex-context"' in page.text and 'name="tpn_started_at"' in page.text
    assert "二级检测所需背景信息" in web.get("/lab/accession",
                                      headers={"Accept-Language": "zh-CN"}).text
    context = {"tpn_started_at": "2026-03-01T10:00", "tpn_stopped_at": "2026-03-02T09:00",
               "pivalate_exposure": "1", "maternal_b12_low": "1", "maternal_diet": "vegetarian",
               "maternal_disorder": "coeliac disease"}
    refused = web.post("/lab/accession", data={
        **CARD_FORM, **context, "tpn_stopped_at": "2026-03-01T09:00", "csrf_token": csrf,
        "barcode": card(1)})
    assert refused.status_code == 422 and "field tpn_stopped_at" in refused.text
    assert 'value="coeliac disease"' in refused.text  # the form keeps what was typed
    created = web.post("/lab/accession", data={**CARD_FORM, **context, "csrf_token": csrf,
                                               "barcode": card(1)})
    assert created.status_code == 201, created.text
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(1))).one()
    assert specimen.tpn_stopped_at is not None
    assert specimen.tpn_stopped_at.isoformat().startswith("2026-03-02T09:00")
    assert (specimen.pivalate_exposure, specimen.maternal_b12_low, specimen.maternal_diet,
            specimen.maternal_disorder) == (True, True, "vegetarian", "coeliac disease")
    # the reviewer reads the same context on the specimen page, times on the laboratory's clock
    page = web.get(f"/lab/specimens/{specimen.id}")
    assert page.status_code == 200, page.text
    shown = page.text.split('id="card-context"')[1].split("</table>")[0]
    assert "2026-03-01 10:00 UTC" in shown and "2026-03-02 09:00 UTC" in shown
    assert "vegetarian" in shown and "coeliac disease" in shown
    chinese = web.get(f"/lab/specimens/{specimen.id}", headers={"Accept-Language": "zh-CN"})
    assert "肠外营养开始时间" in chinese.text and "母亲维生素B12偏低" in chinese.text
