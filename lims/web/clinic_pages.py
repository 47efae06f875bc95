"""The clinic's pages (role ``clinic``), under ``/clinic``: the cases referred to the user's
clinic only (any other case is "not found"), each with its timeline; the diagnostic evaluation
and diagnosis (the confirmatory tests and findings with the outcome), the treatment and the
follow-up visits; the recall letter and the baby's result reports as PDFs. The pages are the
shared case pages (``lims.web.case_pages``) for this role: the transitions offered are those
the case state machine allows a clinic.

Public names: ``router``, ``CLINIC``.
"""

from __future__ import annotations

from lims.vocabulary import Role
from lims.web.case_pages import Follow, case_router

__all__ = ["CLINIC", "router"]

CLINIC = Follow(prefix="/clinic", coordinator=False)
router = case_router(CLINIC, (Role.clinic,))
