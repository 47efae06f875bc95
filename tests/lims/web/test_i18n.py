"""The catalogues: every message the pages may show has its Simplified Chinese translation,
with the same placeholders; the language negotiation."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from lims.web.i18n import LOCALE_DIR, LOCALES, load_translations, negotiate
from lims.web.messages import message_ids, plural_message_ids

_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.mark.parametrize("locale", [code for code in LOCALES if code != "en"])
def test_every_message_is_translated_with_its_placeholders(locale):
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {m.id: m.string for m in catalog
                  if isinstance(m.id, str) and m.id and m.string and not m.fuzzy}
    missing = sorted(message_ids() - set(translated))
    assert missing == [], f"{locale}: not translated: {missing}"
    for msgid, text in translated.items():
        assert sorted(_PLACEHOLDER.findall(msgid)) == sorted(_PLACEHOLDER.findall(text)), msgid
    assert load_translations()[locale].gettext("Sign in") == translated["Sign in"]
    plurals = {m.id: m.string for m in catalog
               if isinstance(m.id, tuple) and all(m.string) and not m.fuzzy}
    assert plural_message_ids(), "the templates' count sentences were not found"
    missing = sorted(plural_message_ids() - set(plurals))
    assert missing == [], f"{locale}: count sentences not translated: {missing}"
    for (one, many), forms in plurals.items():
        assert sorted(_PLACEHOLDER.findall(one)) == sorted(_PLACEHOLDER.findall(many))
        for text in forms:
            assert sorted(_PLACEHOLDER.findall(many)) == sorted(_PLACEHOLDER.findall(text)), many


def test_count_sentences_agree_with_their_count():
    english, chinese = load_translations()["en"], load_translations()["zh_CN"]
    one, many = ("%(num)s normal result is waiting to be released.",
                 "%(num)s normal results are waiting to be released.")
    assert english.ngettext(one, many, 1) % {"num": 1} == \
        "1 normal result is waiting to be released."
    assert english.ngettext(one, many, 2) % {"num": 2} == \
        "2 normal results are waiting to be released."
    assert chinese.ngettext(one, many, 1) % {"num": 1} == "有 1 份正常结果等待发布。"


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
