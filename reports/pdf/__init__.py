"""The shared PDF layer of the documents: fonts (``fonts``), page templates and styles
(``page``), tables (``tables``) and drawn charts (``charts``). The document modules
(``reports.letter``, ``reports.result``, ``reports.qc``, ``reports.bulletin``,
``reports.report_card``) build on it.
"""
