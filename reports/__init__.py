"""Documents people act on (recall letters, result and QC reports, HL7), rendered from plain
view models. No database, no web.

Public names: ``ReportError``. HL7 v2.5.1 messages are in ``reports.hl7``.
"""


class ReportError(Exception):
    """A document cannot be rendered from the view model given."""


__all__ = ["ReportError"]
