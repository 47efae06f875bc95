"""The ``/api/v1`` router: every domain's routes.

Public names: ``api_router``.
"""

from __future__ import annotations

from fastapi import APIRouter

from lims.accession.routes import router as accession_router
from lims.alerts.routes import router as alerts_router
from lims.auth.routes import router as auth_router
from lims.review.routes import router as review_router
from lims.runs.routes import router as runs_router

__all__ = ["api_router"]

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router)
api_router.include_router(accession_router)
api_router.include_router(runs_router)
api_router.include_router(review_router)
api_router.include_router(alerts_router)
