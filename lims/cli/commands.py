"""Every command of ``nbs`` (docs/architecture.md "Command line"), registered on ``app`` in the
order ``nbs --help`` lists them; each command or command group lives in a module of its own.

Public names: ``app``, ``HELP``.
"""

from __future__ import annotations

import typer

from lims.cli import (
    alerts,
    audit,
    backup,
    births,
    cases,
    catalogue,
    cutoffs,
    evaluate,
    hl7,
    ingest,
    outcomes,
    quantify,
    read,
    reflex_calibrate,
    report,
    second_tier,
    simulate,
    simulate_plate,
    system,
    users,
)

__all__ = ["HELP", "app"]

HELP = "Newborn-screening laboratory: instruments, quantitation, evaluation, LIMS."
app = typer.Typer(
    name="nbs",
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(catalogue.catalogue_app, name="catalogue")
app.command("init-db")(system.init_db_command)
app.command("seed-demo")(system.seed_demo_command)
app.command("serve")(system.serve_command)
app.add_typer(users.users_app, name="users")
app.command("backup")(backup.backup_command)
app.command("restore")(backup.restore_command)
simulate.simulate_app.command("plate")(simulate_plate.plate_command)
app.add_typer(simulate.simulate_app, name="simulate")
app.command("ingest")(ingest.ingest_command)
app.add_typer(alerts.alerts_app, name="alerts")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(cases.cases_app, name="cases")
app.add_typer(outcomes.outcomes_app, name="outcomes")
outcomes.programme_app.command("births")(births.births_command)
app.add_typer(outcomes.programme_app, name="programme")
app.add_typer(hl7.hl7_app, name="hl7")
app.add_typer(report.report_app, name="report")
app.command("read")(read.read_command)
app.command("quantify")(quantify.quantify_command)
app.add_typer(cutoffs.cutoffs_app, name="cutoffs")
app.command("evaluate")(evaluate.evaluate_command)
second_tier.second_tier_app.command("calibrate-reflex")(
    reflex_calibrate.calibrate_reflex_command)
app.add_typer(second_tier.second_tier_app, name="second-tier")
