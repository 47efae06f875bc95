"""Every action the code base writes to the audit trail has its label in English and Chinese
(the codes read from the source by ``audit_codes``, wrappers and computed actions followed,
so that a new way of writing an event cannot bring an unlabelled code); the audit page's event
filter offers the actions by their labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lims.web.i18n import load_translations
from lims.web.messages import AUDIT_ACTIONS, AUDIT_RECORDS
from tests.conftest import ROOT
from tests.lims.web.audit_codes import AuditCodes, Unresolved
from tests.lims.web.conftest import sign_in_page


def test_every_action_the_code_writes_has_a_label_in_both_languages():
    codes = AuditCodes(ROOT).codes
    assert len(codes) > 70 and {"login", "read_list", "refer", "contact"} <= set(codes)
    missing = {code: where for code, where in codes.items() if code not in AUDIT_ACTIONS}
    assert not missing, f"audited actions without a label (add them to AUDIT_ACTIONS): {missing}"
    translations = load_translations()
    for action in AUDIT_ACTIONS:
        for locale in ("en", "zh_CN"):
            label = translations[locale].gettext(f"audit {action}")
            assert label != f"audit {action}" and "_" not in label, (locale, action)


def _package(root: Path, **modules: str) -> Path:
    (root / "lims").mkdir()
    (root / "lims" / "__init__.py").write_text("")
    (root / "lims" / "audit.py").write_text(
        "def record(session, actor, action, entity, entity_id):\n    pass\n"
    )
    for name, source in modules.items():
        (root / "lims" / f"{name}.py").write_text(source)
    return root


def test_the_scan_follows_wrappers_constants_and_enums(tmp_path):
    root = _package(
        tmp_path,
        notes="""
from dataclasses import dataclass
from lims.audit import record
from lims.vocabulary import Transition


@dataclass
class _Kind:
    done: str
    undone: str


_PAPER = _Kind("paper_done", "paper_undone")


def _note(session, actor, code):
    record(session, actor, code, "note", 1)


def _noted(session, actor, kind):
    record(session, actor, kind.undone, "note", 1)


def write(session, actor, ok):
    _note(session, actor, "brand_new")
    _note(session, actor, Transition.refer if ok else "other_new")
    record(session, actor, _PAPER.done, "note", 1)
    _noted(session, actor, _PAPER)
""",
    )
    assert set(AuditCodes(root).codes) == {
        "brand_new",
        "refer",
        "other_new",
        "paper_done",
        "paper_undone",
    }


@pytest.mark.parametrize(
    "source",
    [
        "from lims.audit import record\n\n\ndef write(session, actor, items):\n"
        "    for item in items:\n        record(session, actor, item.code, 'note', 1)\n",
        "from lims.audit import record\n\n\ndef _orphan(session, actor, code):\n"
        "    record(session, actor, code, 'note', 1)\n",
    ],
)
def test_the_scan_refuses_an_action_it_cannot_follow(tmp_path, source):
    with pytest.raises(Unresolved):
        AuditCodes(_package(tmp_path, notes=source))


def test_the_audit_page_offers_the_events_by_their_labels(web, world):
    sign_in_page(web, "admin")
    web.post("/language", data={"lang": "zh_CN", "next": "/lab/audit"})
    page = web.get("/lab/audit", params={"action": "login"}).text
    menu = page.split('id="audit-action"', 1)[1].split("</select>", 1)[0]
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', menu))
    assert set(options) == {"", *AUDIT_ACTIONS}
    chinese = load_translations()["zh_CN"]
    assert all(options[a] == chinese.gettext(f"audit {a}") for a in AUDIT_ACTIONS)
    assert '<option value="login" selected>' in menu
    older = web.get("/lab/audit", params={"action": "no_longer_written"}).text
    assert '<option value="no_longer_written" selected>no_longer_written</option>' in older


def _entities_written() -> set[str]:
    """The kinds of record (``entity``) the code base passes as text to the audit writers."""
    import ast

    position = {"record": 3, "store": 3, "AuditEntry": 1, "record_list_read": 2}
    found = set()
    for path in (ROOT / "lims").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (func.id if isinstance(func, ast.Name)
                    else func.attr if isinstance(func, ast.Attribute) else "")
            at = position.get(name)
            if at is not None and len(node.args) > at:
                arg = node.args[at]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def test_every_kind_of_record_the_code_writes_has_a_label_in_both_languages():
    written = _entities_written()
    assert {"specimen", "run", "followup_case", "outbound_message"} <= written
    assert written <= set(AUDIT_RECORDS), written - set(AUDIT_RECORDS)
    for language in ("en", "zh_CN"):
        catalogue = load_translations()[language]
        assert all(catalogue.gettext(f"record {r}") != f"record {r}" for r in AUDIT_RECORDS)


def test_the_audit_page_names_kinds_of_record_in_words(web, world):
    sign_in_page(web, "admin")
    web.get("/lab/audit")  # reading the trail is itself an event, on the record audit_event
    page = web.get("/lab/audit").text
    assert '<span data-entity="audit_event">audit trail</span> list' in page
    web.post("/language", data={"lang": "zh_CN", "next": "/lab/audit"})
    assert '<span data-entity="audit_event">审计记录</span> list' in web.get("/lab/audit").text
