"""Documents issued by the LIMS (docs/reports.md "In the LIMS"): recall letters, result
reports, run QC reports, the monthly bulletin and report cards, built from the database as
``reports`` view models, rendered to PDF, stored with their SHA-256 and audited; a reprint
returns the stored bytes, a correction is a new version naming the one it replaces."""
