"""The LIMS's vocabularies are declared once: the enums the core's calls and plate decisions are
typed with match the core's own tuples, the workflow and review derive from the enums, and the
documentation lists them as declared."""

from __future__ import annotations

import re

from cutoffs.evaluate import ACTIONS, FINALS, FIRST_TIERS, STAGES
from lims import vocabulary
from lims.models import ROLES
from lims.review.service import _OUTCOME
from lims.vocabulary import (
    Action,
    Decision,
    Final,
    FirstTier,
    QcDecision,
    Role,
    SpecimenState,
    Stage,
    Transition,
)
from lims.workflow import SPECIMEN_TRANSITIONS
from msms.qc.decision import DECISIONS
from tests.conftest import ROOT


def test_the_core_vocabularies_match_the_cores_tuples():
    for enum, core in ((FirstTier, FIRST_TIERS), (Final, FINALS), (Action, ACTIONS),
                       (Stage, STAGES), (QcDecision, DECISIONS)):
        assert tuple(enum) == core, enum.__name__


def test_the_workflow_and_review_use_every_member_once():
    assert tuple(t.name for t in SPECIMEN_TRANSITIONS) == tuple(Transition)
    reached = {s for t in SPECIMEN_TRANSITIONS for s in (*t.sources, t.target)}
    assert reached == set(SpecimenState)
    assert set(Decision) <= set(Transition) and set(_OUTCOME) == set(Decision)
    assert tuple(Role) == ROLES


def test_docs_list_every_vocabulary_as_declared():
    """docs/lims.md "Vocabularies" is the enums, value for value."""
    text = (ROOT / "docs" / "lims.md").read_text(encoding="utf-8")
    section = text.split("## Vocabularies", 1)[1].split("\n## ", 1)[0]
    listed = {m.group(1): re.findall(r"`([^`]+)`", m.group(2))
              for m in re.finditer(r"^\| `(\w+)` \| (.+) \|$", section, re.MULTILINE)}
    declared = {name: [m.value for m in getattr(vocabulary, name)]
                for name in vocabulary.__all__}
    assert listed == declared
