"""The phrases a call's reasons are written with read back as a code and fields (what a page
in another language renders), and the first tier's notes are written with them."""

from __future__ import annotations

import pytest

from cutoffs.evaluate import evaluate
from cutoffs.reason_phrases import MISSING, REASONS
from msms.phrases import Phrasebook
from tests.cutoffs.builders import nan, profiles


def test_a_phrase_writes_and_reads_back_its_fields():
    book = Phrasebook((("pair", "{a} against {b} (P{p})"), ("one", "{a} alone")),
                      fields={"p": r"[0-9.]+"})
    text = book.text("pair", a="C8", b="C10", p=99.5)
    assert text == "C8 against C10 (P99.5)"
    phrase, fields = book.parse(text)
    assert phrase.code == "pair" and fields == {"a": "C8", "b": "C10", "p": "99.5"}
    assert phrase.msgid == "%(a)s against %(b)s (P%(p)s)"
    assert book.parse("C8 against C10 (Pnone)") is None and book.parse("other") is None
    with pytest.raises(ValueError, match="not a new name"):
        Phrasebook((("twice", "{a} and {a}"),))


def test_the_first_tier_notes_read_back():
    calls = evaluate(profiles({"C8": 2.0, "C10": nan()}, {"C8": nan()}), include_normal=True)
    notes = [part.strip() for reasons in calls["reasons"] for part in reasons.split(";")
             if part.strip() and REASONS.parse(part) is not None]
    codes = {REASONS.parse(n)[0].code for n in notes}
    assert codes & {"unread", "not_evaluable"}, calls["reasons"].tolist()
    for note in notes:
        phrase, fields = REASONS.parse(note)
        for item in fields.get("missing", "").split(", ") if "missing" in fields else []:
            assert MISSING.parse(item) is not None, item
    assert MISSING.parse("C8/C10 undefined (C10 missing)")[1] == {"marker": "C8/C10",
                                                                  "why": "C10 missing"}
