"""Readable builders for LIMS tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lims.reference import barcode_rule

BIRTH = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def card(n: int) -> str:
    """A valid card barcode (Luhn check digit) for number ``n``."""
    return barcode_rule().make(f"{n:08d}")


def specimen_body(barcode: str, submitter_id: int, *, infant: dict[str, Any] | None = None,
                  **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "barcode": barcode,
        "submitter_id": submitter_id,
        "collected_at": (BIRTH + timedelta(hours=36)).isoformat(),
        "received_at": (BIRTH + timedelta(days=3)).isoformat(),
    }
    if "infant_id" not in extra and "previous_barcode" not in extra:
        body["infant"] = infant or {"submitter_id": submitter_id, "birth_at": BIRTH.isoformat(),
                                    "sex": "F", "birth_weight_g": 3300,
                                    "gestational_age_weeks": 39.5,
                                    "mother_name": "Li Na", "mother_id": "M-1"}
    body.update(extra)
    return body
