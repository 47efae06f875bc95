"""The laboratory as its documents name it (``lims/documents/data/laboratory.toml``, or the
file the ``NBS_LABORATORY`` setting names): name, address and telephone per language, the
contacts of a recall letter, the follow-up service a letter names before a clinic is assigned,
how a letter names a baby, the programme's name and the default document language.

Public names: ``LABORATORY_TOML``, ``LabText``, ``LaboratoryFile``, ``load_laboratory``,
``laboratory``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lims.errors import ConfigurationError
from lims.settings import Settings, get_settings
from reports.datafile import ReportDataError, load_toml
from reports.models import LANGUAGES, Contact, Laboratory, Lang

__all__ = ["LABORATORY_TOML", "LabText", "LaboratoryFile", "laboratory", "load_laboratory"]

LABORATORY_TOML = Path(__file__).parent / "data" / "laboratory.toml"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Contact(_Data):
    name: str = Field(min_length=1)
    role: str = ""
    phone: str = Field(min_length=1)
    email: str = ""
    hours: str = ""


class LabText(_Data):
    """The laboratory's texts in one language."""

    name: str = Field(min_length=1)
    address: str = ""
    phone: str = ""
    accreditation: str = ""
    followup_service: str = Field(min_length=1)
    baby_girl: str = Field(min_length=1)
    baby_boy: str = Field(min_length=1)
    baby: str = Field(min_length=1)
    unknown_mother: str = Field(min_length=1)
    #: No longer printed (a letter names the person responsible: the reviewer who released,
    #: or the command line's ``--actor``); still read so that older files load.
    automatic_signer: str = ""
    contacts: tuple[_Contact, ...] = Field(min_length=1)

    def laboratory(self) -> Laboratory:
        return Laboratory(name=self.name, address=self.address, phone=self.phone,
                          accreditation=self.accreditation)

    def contact_list(self) -> tuple[Contact, ...]:
        return tuple(Contact(**c.model_dump()) for c in self.contacts)

    def baby_name(self, mother: str, sex: str) -> str:
        pattern = {"F": self.baby_girl, "M": self.baby_boy}.get(sex, self.baby)
        return pattern.replace("{mother}", mother.strip() or self.unknown_mother)


class LaboratoryFile(_Data):
    version: str = Field(min_length=1)
    programme: dict[str, str]
    default_language: Lang = "en"
    lang: dict[str, LabText]

    @model_validator(mode="after")
    def _every_language(self) -> LaboratoryFile:
        for field in ("programme", "lang"):
            if missing := [x for x in LANGUAGES if x not in getattr(self, field)]:
                raise ValueError(f"{field} has no entry for {missing}")
        return self

    def text(self, lang: Lang) -> LabText:
        return self.lang[lang]


def load_laboratory(path: Path) -> LaboratoryFile:
    """The file at ``path``; a problem is a ConfigurationError naming the setting, the file,
    the line and the field."""
    try:
        return load_toml(path, LaboratoryFile)
    except ReportDataError as exc:
        raise ConfigurationError(f"NBS_LABORATORY={path}: {exc}") from None


@cache
def _cached(path: Path) -> LaboratoryFile:
    return load_laboratory(path)


def laboratory(settings: Settings | None = None) -> LaboratoryFile:
    """The laboratory file in force (``NBS_LABORATORY``, else the packaged one), read once."""
    path = (settings or get_settings()).laboratory
    return _cached(path or LABORATORY_TOML)
