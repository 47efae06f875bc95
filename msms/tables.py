"""Column contracts of the tables the core passes around (docs/architecture.md "Measurements",
"Profiles", "Calls").

Public names: ``MEASUREMENT_COLUMNS``, ``SAMPLE_TYPES``, ``MEASUREMENT_KINDS``,
``COVARIATE_COLUMNS``, ``SEXES``, ``PROFILE_ID``.
"""

from __future__ import annotations

__all__ = [
    "COVARIATE_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "MEASUREMENT_KINDS",
    "PROFILE_ID",
    "SAMPLE_TYPES",
    "SEXES",
]

#: The long measurements table every instrument reader produces (docs/architecture.md
#: "Measurements").
MEASUREMENT_COLUMNS: tuple[str, ...] = (
    "run_id", "plate_id", "well", "sample_id", "sample_type", "analyte", "value", "unit",
    "kind", "source_file", "source_row",
)

SAMPLE_TYPES: tuple[str, ...] = (
    "patient", "blank", "qc_low", "qc_high", "qc_other", "calibrator", "proficiency", "unknown",
)

#: What a measurement's ``value`` is.
MEASUREMENT_KINDS: tuple[str, ...] = ("concentration", "area", "height", "is_area", "response")

#: The identifier and covariates that open a profiles table, in order (docs/architecture.md
#: "Profiles").
PROFILE_ID = "specimen_id"
COVARIATE_COLUMNS: tuple[str, ...] = (
    "birth_weight_g", "gestational_age_weeks", "age_at_collection_hours", "sex", "tpn",
    "transfused",
)
SEXES: tuple[str, ...] = ("M", "F", "U")
