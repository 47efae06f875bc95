"""English pages show words, not codes: every vocabulary value, due action, referral group and
sex the pages pass through a translation reads as words in English (the English catalogue,
``lims/web/locale/en``), as it does in Chinese; a case page and a specimen page read back."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from lims.web.case_labels import CASE_VOCABULARIES
from lims.web.i18n import LOCALE_DIR, load_translations
from lims.web.messages import DYNAMIC_VOCABULARIES, message_ids
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, upload
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page

CODE = re.compile(r"[a-z0-9_:\-]+|sex [A-Z]|audit [a-z_]+|record [a-z_]+")


def _codes() -> list[str]:
    return sorted(i for i in message_ids() if CODE.fullmatch(i))


def test_every_code_a_page_shows_reads_as_words_in_english():
    english = load_translations()["en"]
    values = {str(v) for enum in (*DYNAMIC_VOCABULARIES, *CASE_VOCABULARIES) for v in enum}
    assert values <= set(_codes())
    bad = {}
    for code in _codes():
        label = english.gettext(code)
        if "_" in label or ":" in label or re.search(r"\b[A-Z]$", label) or (
                re.search(r"[_:]|^sex |^audit |^record ", code) and label == code):
            bad[code] = label
    assert not bad, f"English shows codes: {bad}"
    for code in ("opened", "manual", "phone"):  # words, but not what the page means
        assert english.gettext(code) != code


def test_the_english_catalogue_holds_only_messages_of_the_pages():
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    ids = {str(m.id) for m in catalog if m.id}
    assert ids and ids <= message_ids(), sorted(ids - message_ids())
    assert all(m.string and m.string != m.id for m in catalog if m.id)


def test_english_pages_read_back_in_words(client, web, world):
    specimen = accession(client, world, 1)[1]
    assert upload(client, world, "P-EN.csv",
                  plate_csv("P-EN", {card(1): {"Xle": 900}})).status_code == 201
    sign_in_page(web, "reviewer")
    page = web.get(f"/lab/specimens/{specimen['id']}")
    assert page.status_code == 200
    assert "immediate referral" in page.text and "Action: immediate_referral" not in page.text
    decided = client.post(f"{API}/specimens/{specimen['id']}/decisions", json={
        "decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    case = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()[0]
    web.cookies.clear()
    sign_in_page(web, "follow_up")
    page = web.get(f"/followup/cases/{case['id']}")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text)
    assert "amino acid disorders" in text and "case opened" in text
    for code in ("amino_acid", "awaiting_review", "immediate_referral"):
        assert code not in text, code
