"""Levey-Jennings series of stored runs with their Westgard flags, on SQLite and PostgreSQL:
the series reads the accepted runs before a plate (a rejected run's controls are no history),
each run is flagged as it was judged; the run QC report charts them and shows each well's
internal-standard signal (read back, rendered to images)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from instruments.virtual import simulate_plate, write_plate
from lims.app import create_app
from lims.audit import SYSTEM
from lims.demo import accession_cohort
from lims.models import WellSignal
from lims.pipeline import ScreeningPipeline
from lims.runs.levey_jennings import run_charts
from lims.runs.service import ingest_bytes
from msms.population import simulate_cohort
from msms.qc.controls import default_control_lots
from tests.lims.helpers import API, accession, card, upload
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.reports.pdfcheck import assert_contains, assert_pages_sound, page_texts

LOW = default_control_lots().lots["VQC-L-2501"].targets["Phe"]
HIGH = default_control_lots().lots["VQC-H-2501"].targets["Phe"]


def low_at(z: float) -> float:
    return round(LOW.mean_umol_l + z * LOW.sd_umol_l, 3)


def plates(client, world, *zs: float, first: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    """One plate per z-score of the low control's Phe (the high control on target)."""
    ids = []
    for n, z in enumerate(zs, start=first):
        response = upload(client, world, f"LJ-{n}.csv", plate_csv(
            f"LJ-{n}", {card(90 + n): {}}, qc_low_phe=low_at(z), qc_high_phe=HIGH.mean_umol_l))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def test_series_flag_each_run_as_it_was_judged(client, world, engine):
    first, second, third = plates(client, world, 0.1, 2.3, 2.1)
    with Session(engine) as session:
        charts = run_charts(session, third)
        early = run_charts(session, first)
    whole = charts.charts(charts.current)
    low = next(s for s in whole if s.lot == "VQC-L-2501" and s.analyte == "Phe")
    assert [int(p.run_id) for p in low.points] == [first, second, third]
    assert [p.z for p in low.points] == pytest.approx([0.1, 2.3, 2.1])
    assert low.flags_of(str(third)) == ("1-2s", "2-2s")
    assert low.flags_of(str(second)) == ("1-2s",)      # the first beyond 2 SD only warns
    assert [s.lot for s in charts.flagged()] == ["VQC-L-2501"]
    high = next(s for s in whole if s.lot == "VQC-H-2501")
    assert high.flags_of(str(third)) == ()
    # an earlier run's chart stops at that run
    assert [len(s.points) for s in early.charts(early.current)] == [1, 1]
    # the run's own flags without the whole series: the same as the whole series gives
    mine = next(s for s in charts.current if s.lot == "VQC-L-2501")
    assert mine.flags_of(str(third)) == ("1-2s", "2-2s")
    assert mine.flags_of(str(second)) == ()            # not worked out
    assert [v.points for v in mine.violations if v.rule == "2-2s"] == [(1, 2)]
    assert early.flagged() == []


def test_a_rejected_run_is_no_history(client, world, engine):
    first, = plates(client, world, 2.3)
    rejected = upload(client, world, "LJ-bad.csv", plate_csv("LJ-bad", {}, qc_low_phe=10))
    assert rejected.json()["qc_decision"] == "reject"
    last, = plates(client, world, 2.2, first=2)
    with Session(engine) as session:
        charts = run_charts(session, last)
        own = run_charts(session, rejected.json()["id"])
    low = next(s for s in charts.charts(charts.current) if s.lot == "VQC-L-2501")
    assert [int(p.run_id) for p in low.points] == [first, last]
    assert low.flags_of(str(last)) == ("1-2s", "2-2s")
    # the rejected run's own chart shows it after the accepted run before it
    low_own = next(s for s in own.charts(own.current) if s.lot == "VQC-L-2501")
    assert [int(p.run_id) for p in low_own.points] == [first, rejected.json()["id"]]
    assert "1-3s" in low_own.flags_of(str(rejected.json()["id"]))


def test_the_qc_report_charts_the_flagged_series(client, world):
    accession(client, world, 91, 92, 93)
    *_, third = plates(client, world, 0.1, 2.3, 2.1)
    for language, words in (("en", ["Levey-Jennings charts", "2-2s", "VQC-L-2501"]),
                            ("zh-CN", ["Levey-Jennings质控图", "2-2s", "VQC-L-2501"])):
        qc = client.post(f"{API}/documents/qc", json={"run_id": third, "language": language},
                         headers=world.auth("technician"))
        assert qc.status_code == 201, qc.text
        assert_contains(qc.content, *words)
        assert_pages_sound(qc.content)
    # the controls table names the rules the control broke (not only 1-2s by its z)
    text = "".join(page_texts(qc.content))
    assert "1-2s,2-2s" in text.replace(" ", "")


def test_each_wells_internal_standard_signal_is_stored_and_reported(settings, engine, world,
                                                                    tmp_path):
    cohort = simulate_cohort(89, seed=11, disorder_rate=0.0)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=30_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    plate = simulate_plate(seed=11, cohort=cohort, plate_id="IS-1", is_failures={"C07": 0.1})
    path = tmp_path / "IS-1.txt"
    write_plate(plate, path, format="masslynx")
    run = ingest_bytes(engine, SYSTEM, path.read_bytes(), path.name, ScreeningPipeline()).run
    with Session(engine) as session:
        signal = {w.well: w for w in session.exec(select(WellSignal).where(
            WellSignal.run_id == run.id))}
    assert len(signal) == run.n_wells == 96
    assert signal["C07"].status == "low"
    assert signal["C07"].fraction == pytest.approx(0.1, rel=0.35)
    assert signal["C07"].internal_standard
    others = [w.fraction for name, w in signal.items() if name != "C07" and w.fraction]
    assert min(others) > 0.5 and max(others) < 2
    with TestClient(create_app(settings, engine, pipeline=ScreeningPipeline()),
                    base_url="https://testserver") as client:
        qc = client.post(f"{API}/documents/qc", json={"run_id": run.id},
                         headers=world.auth("technician"))
        sign_in_page(client, "technician")
        page = client.get(f"/lab/runs/{run.id}").text
    ringed = re.findall(r'class="well [a-z ]*is-low"[^>]*data-well="([A-H]\d\d)"', page)
    assert ringed == ["C07"]
    assert re.search(r'id="is-low">[^<]*30%[^<]*C07</p>', page)
    # the real plate's controls are charted, the low and the high lot of each analyte
    assert 'id="lj-VQC-L-2501-' in page and 'id="lj-VQC-H-2501-' in page
    assert qc.status_code == 201, qc.text
    assert_contains(qc.content, "Wells below 30% of the plate median: C07")
    assert_pages_sound(qc.content)
