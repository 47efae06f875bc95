"""The LIMS's vocabularies are declared once: the enums the core's calls and plate decisions are
typed with match the core's own tuples, and the workflow and review derive from the enums."""

from __future__ import annotations

from cutoffs.evaluate import ACTIONS, FINALS, FIRST_TIERS, STAGES
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
