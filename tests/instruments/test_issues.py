"""The readers' warnings are phrases: every warning a reader writes is worded by a phrase of
``instruments.issues.WARNINGS`` (checked in the source), and a stored issue (``str(issue)``)
reads back into its severity, where it was found, and the phrase and fields of its message."""

from __future__ import annotations

import ast
from pathlib import Path

import instruments
from instruments.issues import WARNINGS, read_issue, word_issue
from msms.qc.messages import FindingWords
from tests.instruments.builders import every_reader_warning

PACKAGE = Path(instruments.__file__).parent
ENGLISH = FindingWords(template=lambda phrase: phrase.template, step=str)
#: Messages passed on by name: the mzML decoder's notes (``mzml_elements._name_note`` writes
#: them with the ``cv_name`` phrase).
_PASSED_ON = {"note"}
#: Phrases whose code the reader composes: how the source writes it.
_COMPOSED = {"no_point_precursor": 'f"no_point_{mode}"', "no_point_loss": 'f"no_point_{mode}"',
             "no_blank_of_plate": '"no_blank" + suffix',
             "no_control_of_plate": '"no_control" + suffix'}


def _warnings() -> list[tuple[str, ast.expr]]:
    """(where, message) of every warning the readers write: ``raw.warn(message, ...)`` and
    ``add("warning", message, ...)`` (``RawRun.warn`` makes the issue)."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "warn" and node.args:
                out.append((f"{path.name}:{node.lineno}", node.args[0]))
            elif (isinstance(func, ast.Name) and func.id == "add" and len(node.args) > 1
                  and isinstance(node.args[0], ast.Constant) and node.args[0].value == "warning"):
                out.append((f"{path.name}:{node.lineno}", node.args[1]))
    return out


def _code(message: ast.expr) -> str | None:
    if (isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute)
            and isinstance(message.func.value, ast.Name) and message.func.value.id == "WARNINGS"
            and message.func.attr == "text"):
        first = message.args[0]
        if isinstance(first, ast.Constant):
            return str(first.value)
        return ast.unparse(first)
    return None


def test_every_warning_of_the_readers_is_written_with_a_phrase() -> None:
    found = _warnings()
    assert len(found) >= 15, found
    plain = [where for where, message in found
             if _code(message) is None and not (isinstance(message, ast.Name)
                                                 and message.id in _PASSED_ON)]
    assert plain == [], f"warnings written without a phrase: {plain}"
    source = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    unused = [p.code for p in WARNINGS
              if f'"{p.code}"' not in source and _COMPOSED.get(p.code, "?") not in source]
    assert unused == [], f"phrases no reader writes: {unused}"


def test_every_stored_warning_reads_back() -> None:
    for stored, phrase in zip(every_reader_warning(), WARNINGS, strict=True):
        read = read_issue(stored)
        assert read is not None and read[2] is phrase, (phrase.code, read)
        assert read[:2] == ("warning", "P-2025-0311.csv:12 [Name]")
        assert word_issue(stored, ENGLISH) == stored
    assert read_issue("warning: a.csv: something else") is None


def test_a_real_runs_warnings_read_back(tmp_path) -> None:
    from tests.instruments.test_mzml import SYN

    run = instruments.read(SYN / "fia_mrm_psims.mzML")
    stored = [str(i) for i in run.issues if i.severity == "warning"]
    assert stored
    for text in stored:
        read = read_issue(text)
        assert read is not None, text
    codes = {read_issue(t)[2].code for t in stored}  # type: ignore[index]
    assert {"no_blank", "no_control"} <= codes, codes
