"""Reading rendered documents back: their text (pypdf) and their pages as images (pypdfium2),
with the checks every document must pass (no blank page, nothing outside the margins) and the
golden-text comparison.

``NBS_UPDATE_GOLDEN=1 pytest tests/reports`` rewrites the golden files instead of comparing.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2 as pdfium

GOLDEN = Path(__file__).resolve().parent / "golden"
MM = 72 / 25.4
#: Bands along the page edges that must stay white (the margins are 16 mm at the sides; the
#: header and footer sit inside the top and bottom 24 and 20 mm).
SIDE_BAND_MM = 14
TOP_BOTTOM_BAND_MM = 10


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    """Text without any whitespace (pypdf breaks lines between font runs)."""
    return re.sub(r"\s+", "", text)


def assert_contains(pdf: bytes, *needles: str) -> None:
    text = squash("".join(page_texts(pdf)))
    missing = [n for n in needles if squash(n) not in text]
    assert not missing, f"not found in the PDF's text: {missing}"


def page_images(pdf: bytes) -> list[np.ndarray]:
    """Every page rendered at 72 dpi as a greyscale array (255 = white)."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [np.asarray(page.render(scale=1, grayscale=True).to_pil().convert("L"))
                for page in document]
    finally:
        document.close()


def assert_pages_sound(pdf: bytes) -> int:
    """Every page has ink and none in the bands along its edges; returns the page count."""
    images = page_images(pdf)
    assert images, "the PDF has no page"
    for number, image in enumerate(images, start=1):
        ink = image < 200
        assert ink.mean() > 0.003, f"page {number} is blank ({ink.mean():.4%} ink)"
        side, edge = round(SIDE_BAND_MM * MM), round(TOP_BOTTOM_BAND_MM * MM)
        bands = {"top": ink[:edge], "bottom": ink[-edge:], "left": ink[:, :side],
                 "right": ink[:, -side:]}
        touched = [name for name, band in bands.items() if band.any()]
        assert not touched, f"page {number} has ink in its {', '.join(touched)} margin"
    return len(images)


def golden_lines(pdf: bytes) -> list[str]:
    return [line.strip() for text in page_texts(pdf) for line in text.splitlines()
            if line.strip()]


def assert_golden(pdf: bytes, name: str) -> None:
    """The PDF's text equals the stored ``golden/<name>.txt`` (whitespace aside)."""
    path = GOLDEN / f"{name}.txt"
    lines = golden_lines(pdf)
    if os.environ.get("NBS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with NBS_UPDATE_GOLDEN=1 once and review it"
    expected = path.read_text(encoding="utf-8").splitlines()
    if squash("".join(lines)) != squash("".join(expected)):
        diff = "\n".join(difflib.unified_diff(expected, lines, "golden", "rendered", lineterm="",
                                              n=1))
        raise AssertionError(f"the text of {name} changed (NBS_UPDATE_GOLDEN=1 to accept):\n"
                             f"{diff[:4000]}")
