"""Translations of the pages: English (the source language) and Simplified Chinese.

The catalogues are gettext ``.po`` files under ``lims/web/locale/`` (package data), compiled in
memory when the service starts (``load_translations``), so no compiled ``.mo`` file is kept in
the repository. A page is shown in the language the user chose (the ``nbs_lang`` cookie), else
the first language of the browser's ``Accept-Language`` the laboratory has, else English.

Public names: ``LOCALES``, ``DEFAULT_LOCALE``, ``LOCALE_DIR``, ``load_translations``,
``negotiate``.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = ["DEFAULT_LOCALE", "LOCALES", "LOCALE_DIR", "load_translations", "negotiate"]

#: The languages of the pages, with their names as shown in the language menu.
LOCALES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"


def load_translations(locale_dir: Path = LOCALE_DIR) -> dict[str, NullTranslations]:
    """Every language's translations, each ``.po`` catalogue compiled in memory; English is the
    source text, its catalogue only words for the codes the pages show (``en/``). A catalogue
    with a fuzzy or empty entry still loads (the entry shows in English);
    ``tests/lims/web/test_i18n.py`` keeps the catalogue complete."""
    out: dict[str, NullTranslations] = {DEFAULT_LOCALE: NullTranslations()}
    for locale in LOCALES:
        po = locale_dir / locale / "LC_MESSAGES" / "messages.po"
        if locale == DEFAULT_LOCALE and not po.exists():
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        out[locale] = Translations(buffer)
    return out


def _tag(value: str) -> str:
    return value.strip().replace("-", "_").lower()


def negotiate(chosen: str | None, accept_language: str | None) -> str:
    """The language of a page: the user's choice when it is one of ``LOCALES``, else the
    browser's most preferred one the laboratory has (``zh``, ``zh-CN``, ``zh-Hans`` give
    Simplified Chinese), else English."""
    if chosen in LOCALES:
        return chosen
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, _tag(tag)))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh") and not tag.startswith(("zh_tw", "zh_hk", "zh_hant")):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE
