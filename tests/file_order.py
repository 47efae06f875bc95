"""The order in which ``make test`` hands test files to its workers: the heaviest first.

``make test`` runs the files on four workers (pytest-xdist, ``--dist loadfile
--no-loadscope-reorder``; four on two cores, since much of the suite waits on PostgreSQL, the
browser and the processes it starts), each worker taking the next file in collection order when
it is nearly done with its own. Left to itself, xdist orders files by their number of tests,
which puts the costliest files (one or two tests over a large simulated cohort, a browser or
``nbs`` processes) last, where one worker runs them while the others wait. Started first, as
the longest-processing-time rule has it, the many light files fill in behind them and the
workers finish together.

``HEAVIEST`` lists the files whose tests took longest (sum of setup, call and teardown from
``--durations`` on two workers), heaviest first; every other file keeps its collection order
after them. A file missing from the list only runs later, never less.
"""

from __future__ import annotations

import pytest

HEAVIEST: tuple[str, ...] = (
    "tests/lims/followup/test_calibration_export.py",
    "tests/lims/test_foundation.py",
    "tests/lims/ops/test_backup.py",
    "tests/cutoffs/test_second_tier_validation.py",
    "tests/lims/runs/test_core_pipeline.py",
    "tests/lims/reflex/test_demo_reflex.py",
    "tests/lims/ops/test_database_choice.py",
    "tests/lims/test_end_to_end_core.py",
    "tests/lims/web/test_browser.py",
    "tests/lims/ops/test_ingest_and_override.py",
    "tests/cutoffs/test_reflex_simulated.py",
    "tests/cutoffs/test_second_tier_model.py",
    "tests/lims/interfaces/test_exactly_once.py",
    "tests/lims/test_second_tier_train_from_db.py",
    "tests/lims/runs/test_cutoffs_setting.py",
    "tests/lims/review/test_second_tier_review.py",
    "tests/lims/ops/test_login_throttle.py",
    "tests/lims/test_schemathesis.py",
    "tests/lims/ops/test_demo_guard.py",
    "tests/lims/web/test_case_browser.py",
    "tests/lims/web/test_browser_forms.py",
    "tests/lims/web/test_page_errors.py",
    "tests/lims/web/test_review_browser.py",
    "tests/lims/web/test_genotype_browser.py",
    "tests/lims/web/test_audit_labels.py",
    "tests/lims/web/test_page_names.py",
    "tests/lims/reflex/test_genotype_import.py",
    "tests/msms/test_population_screening.py",
    "tests/lims/ops/test_users_cli.py",
    "tests/lims/test_roles.py",
    "tests/msms/test_population_cli.py",
    "tests/lims/reflex/test_reflex_repeat_core.py",
    "tests/lims/runs/test_qc_charts.py",
    "tests/lims/programme/test_stored_measures.py",
    "tests/lims/web/test_browser_unit_programme.py",
    "tests/lims/test_csv_injection.py",
    "tests/lims/auth/test_throttling.py",
    "tests/cutoffs/test_reflex_calibrate_cli.py",
    "tests/lims/review/test_review_percentiles.py",
    "tests/cutoffs/test_simulated.py",
)


def heaviest_first(items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place: the files of ``HEAVIEST`` in its order, then the others as
    collected; the tests of a file keep their order."""
    rank = {path: position for position, path in enumerate(HEAVIEST)}

    def file_rank(item: pytest.Item) -> int:
        return rank.get(item.nodeid.split("::", 1)[0], len(rank))

    items.sort(key=file_rank)  # stable
