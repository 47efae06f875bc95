"""Settings read from the environment (prefix ``NBS_``) and an optional ``.env`` file.

The laboratory's clock: ``lab_zone`` (``NBS_TIME_ZONE``), ``aware`` (a stored time as that
clock reads it) and ``lab_day`` (the laboratory's day of a stored time), which the documents
(the batch report's day of release, every printed time) and the accession (the day a serial
card is due from) share.

Public names: ``Settings``, ``get_settings``, ``lab_zone``, ``aware``, ``lab_day``,
``load_configured_catalogue``,
``load_configured_rules``, ``redact_url``, ``DEV_SECRET``, ``DEFAULT_ESCALATION_CHECK_S``,
``DEFAULT_HL7_DELIVERY_CHECK_S``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from instruments.archive import MIB, ArchiveLimits
from lims.errors import ConfigurationError, InvalidInputError
from lims.reference import (
    BARCODE_TOML,
    UNSATISFACTORY_CSV,
    WORKFLOW_TOML,
    LabRules,
    load_barcode_rule,
    load_rules,
    load_unsatisfactory_codes,
    load_workflow_config,
    use_rules,
)
from msms.catalogue import ANALYTES_CSV, DISORDERS_CSV, Catalogue, load_catalogue

#: ``dialect[+driver]://`` at the start of a database URL (as SQLAlchemy reads it).
_SCHEME = re.compile(r"(?P<backend>\w+)(?:\+(?P<driver>\w+))?://")

__all__ = ["DEFAULT_ESCALATION_CHECK_S", "DEFAULT_HL7_DELIVERY_CHECK_S", "DEV_SECRET",
           "MIN_SECRET_LENGTH",
           "Settings", "aware", "get_settings", "lab_day", "lab_zone", "load_configured_catalogue",
           "load_configured_rules", "redact_url"]

DEV_SECRET = "development-only-secret-change-me"
#: The shortest secret key accepted in production (e.g. ``python -c "import secrets;
#: print(secrets.token_urlsafe(32))"`` gives 43 characters).
MIN_SECRET_LENGTH = 32
#: How often the running service escalates overdue alerts unless told otherwise.
DEFAULT_ESCALATION_CHECK_S = 60.0
#: How often the running service delivers the HL7 outbox unless told otherwise.
DEFAULT_HL7_DELIVERY_CHECK_S = 5.0
#: An HL7 hierarchic designator: a name of 1-20 characters, optionally ``^OID^ISO``.
_HD = r"^[^|^~\\&]{1,20}(\^[0-9.]{1,199}\^ISO)?$"


class Settings(BaseSettings):
    """Configuration of the service and the command line.

    ``database_url`` is a SQLAlchemy URL: SQLite by default (a file under ``var/``), PostgreSQL
    with ``postgresql+psycopg://user@host:5432/db``.
    """

    model_config = SettingsConfigDict(env_prefix="NBS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/nbs.db"
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: A laboratory may replace the packaged catalogues with its own reviewed copies.
    analytes_csv: Path = ANALYTES_CSV
    disorders_csv: Path = DISORDERS_CSV
    #: A laboratory's own rule data (``lims.reference``): card barcode rule (TOML),
    #: unsatisfactory-specimen codes (CSV), workflow intervals (TOML).
    barcode_rule: Path = BARCODE_TOML
    unsatisfactory_codes: Path = UNSATISFACTORY_CSV
    workflow: Path = WORKFLOW_TOML
    #: A second-tier model file (``nbs second-tier train``); empty: no second tier.
    second_tier_model: Path | None = None
    #: The reflex second tier (docs/second_tier.md "In the LIMS"): on, a card flagged in a
    #: referral group with reflex assays waits for the second-tier run (``awaiting_second_tier``).
    reflex: bool = False
    #: Calibrated reflex levels (``cutoffs.reflex.calibrate.write_calibration``); empty: the
    #: literature levels of ``cutoffs/data/reflex_rules.toml``. Setting it turns ``reflex`` on.
    reflex_calibration: Path | None = None
    #: The laboratory imports ACADM and ACADVL genotypes (``POST /api/v1/second-tier-genotypes``):
    #: a card flagged in the FAO group waits for them on the reflex worklist instead of being
    #: decided without them. Setting it turns ``reflex`` on.
    reflex_genotypes: bool = False
    #: The laboratory's cutoff table (``nbs cutoffs derive``, or a literature table); empty:
    #: the rules' cited literature levels, and the covariate model for scores.
    cutoffs: Path | None = None
    #: The laboratory as its documents name it (``lims.documents.laboratory``); empty: the
    #: packaged ``lims/documents/data/laboratory.toml``.
    laboratory: Path | None = None
    #: Seconds between the service's escalations of overdue alerts; unset: every 60 s (off when
    #: ``environment`` is ``test``); 0: off (escalate with ``nbs alerts escalate`` instead).
    alert_escalation_check_seconds: float | None = Field(default=None, ge=0)
    #: HL7 (docs/hl7.md "In the LIMS"): seconds between the service's delivery passes over
    #: the outbox; unset: every 5 s (off when ``environment`` is ``test``); 0: off (run
    #: ``nbs hl7 send --loop`` instead).
    hl7_delivery_check_seconds: float | None = Field(default=None, ge=0)
    #: The laboratory's own names in the messages it sends (MSH-3, MSH-4): ``NAME`` or
    #: ``NAME^OID^ISO`` (an HL7 HD, the name at most 20 characters).
    hl7_sending_application: str = Field(default="NBSLAB", pattern=_HD)
    hl7_sending_facility: str = Field(default="NBS Lab", pattern=_HD)
    #: MSH-11: P production, T training, D debugging.
    hl7_processing_id: Literal["P", "T", "D"] = "P"
    #: Retries: the first wait after a failure, doubled after each further one up to the
    #: longest; a message answered AE this many times is parked (docs/hl7.md "Retries").
    hl7_retry_initial_seconds: float = Field(default=30.0, gt=0)
    hl7_retry_max_seconds: float = Field(default=1800.0, gt=0)
    hl7_max_application_errors: int = Field(default=5, ge=1)
    hl7_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    hl7_ack_timeout_seconds: float = Field(default=30.0, gt=0)
    #: Size limits of a plate read from a zip or directory (mzML; docs/instruments.md
    #: "Archive limits"): one file and all files uncompressed (MiB), and a file's compression
    #: ratio. Past a limit the upload is refused (413) before it is inflated.
    archive_max_member_mib: int = Field(default=64, gt=0)
    archive_max_total_mib: int = Field(default=1024, gt=0)
    archive_max_ratio: float = Field(default=200.0, gt=1)
    #: The laboratory's time zone, an IANA name (``UTC``, ``Asia/Shanghai``): the web pages
    #: show times in it and name it; stored times stay UTC.
    time_zone: str = "UTC"

    @field_validator("second_tier_model", "cutoffs", "laboratory", "reflex_calibration",
                     mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """An empty setting names no file."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        name = value.strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as UTC or "
                             "Asia/Shanghai") from None
        return name

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        # the scheme only: the whole URL is parsed when the database is opened (lims.db), so
        # that the commands that never open it do not import SQLAlchemy
        scheme = _SCHEME.match(value)
        if scheme is None:
            raise ValueError("not a database URL: expected sqlite:///FILE or "
                             "postgresql://USER@HOST:PORT/DATABASE")
        backend, driver = scheme["backend"], scheme["driver"]
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {backend!r}; use sqlite or postgresql")
        if backend == "postgresql" and driver is None:
            value = "postgresql+psycopg://" + value[scheme.end():]
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("NBS_SECRET_KEY must be set to a secret of your own in production")
        if self.environment == "production" and len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(f"NBS_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters "
                             "in production (it signs the web pages' session cookies)")
        return self

    def alert_escalation_every_s(self) -> float | None:
        """How often the running service escalates overdue alerts (None: it does not)."""
        every = self.alert_escalation_check_seconds
        if every is None:
            return None if self.environment == "test" else DEFAULT_ESCALATION_CHECK_S
        return every or None

    def hl7_delivery_every_s(self) -> float | None:
        """How often the running service delivers the HL7 outbox (None: it does not)."""
        every = self.hl7_delivery_check_seconds
        if every is None:
            return None if self.environment == "test" else DEFAULT_HL7_DELIVERY_CHECK_S
        return every or None

    def archive_limits(self) -> ArchiveLimits:
        """The size limits of plate archives these settings give."""
        return ArchiveLimits(max_member_bytes=self.archive_max_member_mib * MIB,
                             max_total_bytes=self.archive_max_total_mib * MIB,
                             max_ratio=self.archive_max_ratio)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file for a file-based SQLite URL, else None."""
        from sqlalchemy.engine import make_url  # only for the database commands

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        return Path(url.database)


def load_configured_catalogue(settings: Settings) -> Catalogue:
    """The catalogues the settings name; a malformed row raises CatalogueError (file:line)."""
    return load_catalogue(settings.analytes_csv, settings.disorders_csv)


def load_configured_rules(settings: Settings) -> LabRules:
    """Load and check the rule files the settings name and put them in force
    (``lims.reference.use_rules``); a bad file raises ConfigurationError naming the setting,
    the file, the line and the field."""
    files: tuple[tuple[str, Path, Callable[[Path], object]], ...] = (
        ("NBS_BARCODE_RULE", settings.barcode_rule, load_barcode_rule),
        ("NBS_UNSATISFACTORY_CODES", settings.unsatisfactory_codes, load_unsatisfactory_codes),
        ("NBS_WORKFLOW", settings.workflow, load_workflow_config),
    )
    for setting, path, load in files:
        try:
            load(path)
        except InvalidInputError as exc:
            raise ConfigurationError(f"{setting}={path}: {exc}") from None
    try:
        rules = load_rules(settings.barcode_rule, settings.unsatisfactory_codes,
                           settings.workflow)
    except InvalidInputError as exc:
        raise ConfigurationError(f"NBS_WORKFLOW={settings.workflow}: {exc}") from None
    use_rules(rules)
    return rules


def redact_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    from sqlalchemy.engine import make_url  # only for the database commands
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"


@cache
def get_settings() -> Settings:
    """The settings from the environment, read once; a bad value raises ConfigurationError."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"NBS_{'_'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from None


def lab_zone() -> ZoneInfo:
    """The laboratory's time zone (``NBS_TIME_ZONE``), in which the web pages and the
    documents show times and the laboratory counts its days."""
    return ZoneInfo(get_settings().time_zone)


def aware(moment: datetime) -> datetime:
    """A stored time (UTC; a naive one is read as UTC) in the laboratory's time zone: as the
    laboratory's clock reads it, with its UTC offset."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return utc.astimezone(lab_zone())


def lab_day(moment: datetime) -> date:
    """The laboratory's day of a stored time (``aware``): a birth at 18:20 UTC is the next day
    in Beijing."""
    return aware(moment).date()
