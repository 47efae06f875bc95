"""The shape of ``lims/`` every domain keeps: schemas, a repository holding all of its queries,
a service that flushes but never commits, thin routes (docs/architecture.md "The LIMS")."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

LIMS = ROOT / "lims"
DOMAINS = sorted(p.name for p in LIMS.iterdir() if (p / "routes.py").exists())
_QUERY = re.compile(r"\b(select|update|insert|exists)\(|session\.(exec|execute)\(")
#: Modules that own a transaction: the routes; besides them only the periodic escalation
#: (``escalate_now``), a signature's failure count, kept when the refused request is rolled back
#: (``confirm_password``), a plate's ingest, all of it or nothing, with the race between
#: identical uploads resolved after the rollback (``ingest_bytes``), the HL7 delivery worker
#: (a claim, then each outcome, in transactions of their own) and the inbound MLLP listener
#: (one transaction per order).
_COMMITTERS = {"routes.py", "alerts/scheduler.py", "auth/service.py", "runs/service.py",
               "interfaces/delivery.py", "interfaces/listener.py"}


def test_the_domains():
    assert DOMAINS == ["accession", "alerts", "auth", "documents", "followup", "interfaces",
                       "reflex", "review", "runs"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_domain_has_the_four_modules(domain):
    for name in ("schemas", "repository", "service", "routes"):
        assert (LIMS / domain / f"{name}.py").exists(), f"lims/{domain}/{name}.py"


@pytest.mark.parametrize("domain", DOMAINS)
def test_queries_live_in_the_repository_and_only_routes_commit(domain):
    for path in sorted((LIMS / domain).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name != "repository.py":
            assert not _QUERY.search(text), f"a query in {path.relative_to(ROOT)}"
        if path.name not in _COMMITTERS and f"{domain}/{path.name}" not in _COMMITTERS:
            assert ".commit()" not in text, f"{path.relative_to(ROOT)} commits"


def test_no_importlib_in_lims():
    assert [str(p.relative_to(ROOT)) for p in LIMS.rglob("*.py")
            if "importlib" in p.read_text(encoding="utf-8")] == []
