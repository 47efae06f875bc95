"""The Chinese documents (``reports/data/wording/zh-CN.toml``) and the Chinese pages (the
catalogue ``lims/web/locale/zh_CN``) word the same codes: a call's reasons and their items,
the plate QC's findings, items, steps and words, the readers' warnings, the disorders' names
and the letters' and reports' vocabularies (finals, actions, tiers, kinds of card, sex). A
code worded in one and missing in the other would show English on one of them."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from cutoffs.reason_phrases import FEATURES, MISSING, REASONS
from instruments.issues import WARNINGS
from lims.vocabulary import Action, Final, FirstTier, Sex, SpecimenKind
from lims.web.i18n import load_translations
from lims.web.phrases import STEP_MESSAGES, VALUE_MESSAGES
from msms.catalogue import disorders
from msms.phrases import Phrasebook
from msms.qc.messages import FINDINGS, ITEMS, LISTING, VOCABULARIES
from reports.wording import Wording, wording

#: Codes only the documents print: the result report's action for a second-tier test of the
#: same card, which the pages show as the card's state (awaiting the second tier) instead.
DOCUMENT_ONLY = {"actions": {"reflex_second_tier"}}

_ZH = load_translations()["zh_CN"].gettext


def _worded(msgid: str) -> bool:
    return _ZH(msgid) != msgid


def _phrases(*books: Phrasebook) -> set[str]:
    return {p.code for book in books for p in book if _worded(p.msgid)}


def _values(vocabulary: Iterable[str], msgid: str = "{}") -> set[str]:
    return {str(v) for v in vocabulary if _worded(msgid.format(v))}


def _table(doc: Wording, name: str) -> set[str]:
    tables = {"sample_types": doc.qc.sample_types, "levels": doc.qc.levels,
              "finals": doc.common.finals, "actions": doc.common.actions,
              "tiers": doc.common.tiers, "kinds": doc.common.specimen_kinds,
              "sex": doc.common.sex_values}
    if name in tables:
        return {key.replace("_", "-") if name == "kinds" else key
                for key, text in tables[name].model_dump().items() if text}
    return set(getattr(doc, name))


#: Each table of the documents and the codes the pages' catalogue words.
_PAGES = {
    "reasons": lambda: _phrases(REASONS),
    "missing": lambda: _phrases(MISSING),
    "features": lambda: _phrases(FEATURES),
    "qc_findings": lambda: _phrases(FINDINGS),
    "qc_items": lambda: _phrases(ITEMS, LISTING),
    "reader_warnings": lambda: _phrases(WARNINGS),
    "qc_steps": lambda: {step for step, msgid in STEP_MESSAGES.items() if _worded(msgid)},
    "sample_types": lambda: {value for (name, value), msgid in VALUE_MESSAGES.items()
                             if name == "sample_type" and _worded(msgid)},
    "levels": lambda: {value for (name, value), msgid in VALUE_MESSAGES.items()
                       if name == "level" and _worded(msgid)},
    "disorders": lambda: {d.code for d in disorders() if _worded(d.name)},
    "finals": lambda: _values(Final),
    "actions": lambda: _values(Action),
    "tiers": lambda: _values(FirstTier),
    "kinds": lambda: _values(SpecimenKind),
    "sex": lambda: _values(Sex, "sex {}"),
}


@pytest.mark.parametrize("table", sorted(_PAGES))
def test_the_documents_and_the_pages_word_the_same_codes(table):
    documents = _table(wording("zh-CN"), table)
    if table == "sample_types":  # the report's plate map has empty positions too
        documents &= set(VOCABULARIES["sample_type"])
    documents -= DOCUMENT_ONLY.get(table, set())
    pages = _PAGES[table]()
    assert pages, f"the pages word no code of {table}"
    assert sorted(documents - pages) == [], f"{table}: worded in the documents only"
    assert sorted(pages - documents) == [], f"{table}: worded on the pages only"

