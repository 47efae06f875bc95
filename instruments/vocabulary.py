"""The PSI-MS controlled vocabulary, loaded once per process from the copy bundled with psims,
with no network access (psims' own resolver is told not to go online either). psims (about 1 s
to import) is imported with the first use of the vocabulary, not with the module, so that the
package's readers load without it.

Public names: ``psi_ms``, ``term_name``, ``is_compression``, ``ACCESSIONS``.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["ACCESSIONS", "is_compression", "psi_ms", "term_name"]

#: The accessions the mzML reader and writer use, with their PSI-MS names (checked against the
#: vocabulary by the tests).
ACCESSIONS: dict[str, str] = {
    "MS:1000514": "m/z array",
    "MS:1000515": "intensity array",
    "MS:1000595": "time array",
    "MS:1000521": "32-bit float",
    "MS:1000523": "64-bit float",
    "MS:1000519": "32-bit integer",
    "MS:1000522": "64-bit integer",
    "MS:1000576": "no compression",
    "MS:1000574": "zlib compression",
    "MS:1002312": "MS-Numpress linear prediction compression",
    "MS:1002313": "MS-Numpress positive integer compression",
    "MS:1002314": "MS-Numpress short logged float compression",
    "MS:1002746": "MS-Numpress linear prediction compression followed by zlib compression",
    "MS:1002747": "MS-Numpress positive integer compression followed by zlib compression",
    "MS:1002748": "MS-Numpress short logged float compression followed by zlib compression",
    "MS:1003088": "truncation and zlib compression",
    "MS:1000130": "positive scan",
    "MS:1000129": "negative scan",
    "MS:1001473": "selected reaction monitoring chromatogram",
    "MS:1000627": "selected ion current chromatogram",
    "MS:1000235": "total ion current chromatogram",
    "MS:1000341": "precursor ion spectrum",
    "MS:1000326": "constant neutral loss spectrum",
    "MS:1000336": "neutral loss",
    "MS:1000827": "isolation window target m/z",
    "MS:1000744": "selected ion m/z",
    "MS:1000511": "ms level",
    "MS:1000016": "scan start time",
    "MS:1000133": "collision-induced dissociation",
    "MS:1000131": "number of detector counts",
    "MS:1000040": "m/z",
    "MS:1000544": "Conversion to mzML",
    "MS:1000031": "instrument model",
    "UO:0000010": "second",
    "UO:0000031": "minute",
    "UO:0000028": "millisecond",
    "UO:0000032": "hour",
}


@cache
def psi_ms() -> Any:
    """The PSI-MS vocabulary (a psims ``ControlledVocabulary``), parsed once."""
    from psims.controlled_vocabulary import controlled_vocabulary, vendor

    # psims would try the internet first and fall back to its bundled files: never go online.
    controlled_vocabulary.obo_cache.use_remote = False
    raw = (resources.files(vendor) / "psi-ms.obo.gz").open("rb")
    with raw, gzip.GzipFile(fileobj=raw) as handle:
        return controlled_vocabulary.ControlledVocabulary.from_obo(handle)


def term_name(accession: str) -> str | None:
    """The vocabulary's name for an MS accession (None when unknown)."""
    if accession.startswith("UO:"):
        return ACCESSIONS.get(accession)
    try:
        return str(psi_ms()[accession].name)
    except (KeyError, AttributeError):
        return None


def is_compression(accession: str) -> bool:
    """True when the accession is a kind of 'binary data compression type' (MS:1000572)."""
    try:
        return bool(psi_ms()[accession].is_of_type("MS:1000572"))
    except (KeyError, AttributeError):
        return False
