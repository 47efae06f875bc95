"""The web service: FastAPI application factory.

Public names: ``create_app``, ``settle``, ``version``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from lims import __version__
from lims.alerts.scheduler import periodic_escalation
from lims.api import api_router, install_error_handlers
from lims.contract import install_contract
from lims.db import check_database, database_status, make_engine
from lims.followup.outcomes import configured_pipeline
from lims.interfaces.delivery import DeliveryPolicy
from lims.interfaces.scheduler import periodic_delivery
from lims.pipeline import Screening, ScreeningPipeline
from lims.security import SecurityMiddleware
from lims.settings import (
    Settings,
    get_settings,
    load_configured_catalogue,
    load_configured_rules,
)
from lims.web import install_web

__all__ = ["create_app", "settle", "version"]

_TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def version() -> str:
    """The service's version (``lims.__version__``)."""
    return __version__


def create_app(settings: Settings | None = None, engine: Engine | None = None, *,
               pipeline: Screening | None = None) -> FastAPI:
    """Build the application.

    The catalogues and the rule files (barcode rule, unsatisfactory codes, workflow; put in
    force here) are validated here and the database is checked when the app starts, so bad
    configuration fails at start-up with a message naming the setting or file, line and field.
    While it runs, overdue alerts are escalated every ``NBS_ALERT_ESCALATION_CHECK_SECONDS``
    (``lims.alerts.scheduler``) and the HL7 outbox is delivered every
    ``NBS_HL7_DELIVERY_CHECK_SECONDS`` (``lims.interfaces.scheduler``).
    ``pipeline`` turns instrument files into results (default: the screening pipeline the
    settings configure, with the cutoff table ``NBS_CUTOFFS`` and the second-tier model
    ``NBS_SECOND_TIER_MODEL`` name, read here; once the database is checked, the model
    registry's active model takes the setting's place, ``lims.followup.outcomes``).
    """
    settings = settings or get_settings()
    engine = engine or make_engine(settings)
    catalogue = load_configured_catalogue(settings)
    load_configured_rules(settings)
    configured = pipeline is None
    if pipeline is None:
        pipeline = ScreeningPipeline.from_settings(settings, catalogue=catalogue)

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        check_database(engine)
        if configured:  # the model registry's active second-tier model, when one is active
            app_.state.pipeline = configured_pipeline(settings, engine, catalogue=catalogue)
        async with periodic_escalation(engine, settings.alert_escalation_every_s()), \
                periodic_delivery(engine, DeliveryPolicy.from_settings(settings),
                                  settings.hl7_delivery_every_s()):
            yield
        engine.dispose()

    app = FastAPI(
        title="Newborn screening laboratory",
        version=version(),
        lifespan=lifespan,
        description="MS/MS newborn screening: ingestion, QC, evaluation, review and release.",
        docs_url=None, redoc_url=None,  # served by lims.web from the app's own files
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.catalogue = catalogue
    app.state.pipeline = pipeline
    install_error_handlers(app)
    app.include_router(api_router)
    install_web(app, settings)
    install_contract(app)
    app.add_middleware(SecurityMiddleware)

    @app.get("/health", tags=["system"])
    def health() -> dict[str, object]:
        """Service version and database status."""
        db = database_status(engine)
        return {"status": "ok" if db["status"] == "ok" else "degraded", "version": version(),
                "database": db}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def landing(request: Request) -> HTMLResponse:
        return _TEMPLATES.TemplateResponse(
            request,
            "index.html",
            {
                "version": version(),
                "database": database_status(engine),
                "n_analytes": len(catalogue.analytes),
                "n_disorders": len(catalogue.disorders),
            },
        )

    return app


def settle(pipeline: Screening) -> None:
    """Ready a serving process: load what the screening pipeline reads lazily, then freeze the
    heap.

    ``ScreeningPipeline.prepare`` loads the covariate model behind the scores now,
    so the first upload does not pay for it (the core itself is imported with this module, so
    a missing core module stops start-up). ``gc.freeze()``
    then moves everything alive (the libraries' long-lived objects) out of the garbage
    collector's reach: a full collection no longer walks them, which otherwise added about 90 ms
    to one plate upload in four (``make bench``). Objects made later are collected as usual.
    """
    if isinstance(pipeline, ScreeningPipeline):
        pipeline.prepare()
    gc.collect()
    gc.freeze()

