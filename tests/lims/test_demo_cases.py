"""The demo's follow-up cases are in every state, and its case closed as not confirmed
(``normal_repeat``) is closed as the service closes a real one: on its repeat card, a later
card of the baby, measured and released as normal by the demo reviewer. On SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from lims.demo import seed_demo
from lims.models import AuditEvent, FollowUpCase, Release, Result, Specimen
from lims.vocabulary import CaseState, OutcomeClass, ReleaseOutcome


@pytest.mark.slow
def test_the_demo_closes_its_case_on_a_released_normal_repeat_card(engine):
    summary = seed_demo(engine)
    with Session(engine) as session:
        cases = session.exec(select(FollowUpCase)).all()
        assert {c.state for c in cases} >= {CaseState.opened, CaseState.contacted,
                                           CaseState.repeat_received, CaseState.referred,
                                           CaseState.closed}
        [closed] = [c for c in cases if c.outcome == OutcomeClass.normal_repeat]
        assert closed.state == CaseState.closed and closed.repeat_specimen_id is not None
        repeat = session.get(Specimen, closed.repeat_specimen_id)
        first = session.get(Specimen, closed.specimen_id)
        assert repeat is not None and first is not None
        assert repeat.infant_id == first.infant_id and repeat.received_at > first.received_at
        releases = session.exec(select(Release).where(
            Release.specimen_id == repeat.id)).all()
        assert [r.outcome for r in releases] == [ReleaseOutcome.normal]
        assert session.exec(select(Result).where(Result.specimen_id == repeat.id)).first()
        # closed by the reviewer's release of the repeat card (the service's own close)
        [close] = session.exec(select(AuditEvent).where(
            AuditEvent.entity == "followup_case", AuditEvent.entity_id == str(closed.id),
            AuditEvent.action == "close_not_confirmed")).all()
        assert (close.user_id, close.username) == (releases[0].released_by, "demo-reviewer")
        assert repeat.barcode in str(close.after)
        waiting = [c for c in cases if c.state == CaseState.repeat_received]
        assert waiting and all(c.outcome is None for c in waiting)
        assert not session.exec(select(Release).where(col(Release.specimen_id).in_(
            [c.repeat_specimen_id for c in waiting]))).first()
    assert "released normal=1" in summary
