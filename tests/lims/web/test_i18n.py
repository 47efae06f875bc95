"""The catalogues: every message the pages may show has its Simplified Chinese translation,
with the same placeholders; the language negotiation."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from lims.web.i18n import LOCALE_DIR, LOCALES, load_translations, negotiate
from lims.web.messages import message_ids

_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.mark.parametrize("locale", [code for code in LOCALES if code != "en"])
def test_every_message_is_translated_with_its_placeholders(locale):
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(message_ids() - set(translated))
    assert missing == [], f"{locale}: not translated: {missing}"
    for msgid, text in translated.items():
        assert sorted(_PLACEHOLDER.findall(msgid)) == sorted(_PLACEHOLDER.findall(text)), msgid
    assert load_translations()[locale].gettext("Sign in") == translated["Sign in"]


@pytest.mark.parametrize(("chosen", "header", "expected"), [
    (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
    (None, "en-US,en;q=0.9,zh;q=0.8", "en"),
    (None, "fr-FR, zh;q=0.5", "zh_CN"),
    (None, "zh-TW", "en"),
    (None, "en;q=0.2, zh-Hans;q=0.9", "zh_CN"),
    (None, None, "en"),
    ("en", "zh-CN", "en"),
    ("zh_CN", "en", "zh_CN"),
    ("xx", "zh", "zh_CN"),
])
def test_the_language_of_a_page(chosen, header, expected):
    assert negotiate(chosen, header) == expected
