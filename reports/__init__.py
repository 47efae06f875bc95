"""Documents people act on (recall letters, result and QC reports, HL7), rendered from plain
view models. No database, no web.

PDF documents: ``reports.letter``, ``reports.result``, ``reports.qc``, ``reports.bulletin``,
``reports.report_card`` (docs/reports.md). HL7 v2.5.1 messages are in ``reports.hl7``.

Public names: ``ReportError``.
"""


class ReportError(Exception):
    """A document cannot be rendered from the view model given."""


__all__ = ["ReportError"]
