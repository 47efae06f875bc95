"""The shared PDF layer of the documents: fonts (``fonts``) and their embedded subsets
(``subsets``), page templates and styles (``page``), plain text (``text``) and its PDF
operators (``operators``), tables (``tables``) and drawn charts (``charts``). The document
modules (``reports.letter``, ``reports.result``, ``reports.qc``, ``reports.bulletin``,
``reports.report_card``) build on it.
"""
