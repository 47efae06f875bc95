"""Instrument adapters: vendor exports and mzML -> the measurements table of DESIGN §4.1, one
module per format with ``read`` (and ``write`` for the virtual instrument).

Public names: ``InstrumentError``.
"""

from instruments.errors import InstrumentError

__all__ = ["InstrumentError"]
