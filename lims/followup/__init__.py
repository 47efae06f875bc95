"""Follow-up: a case per baby and referral group from a released referral, repeat request or
unsatisfactory card to a closed outcome; contacts, referral to a clinic, diagnosis, treatment and
long-term visits; due dates and reminders; outcomes as labelled data, the second-tier model
registry, and the programme measures (docs/followup.md).

Modules: ``rules`` (the cited due-date and visit data), ``machine`` (the case state machine),
``schemas``, ``repository`` (every query), ``service`` (cases), ``board`` (the case board and
a case's record, for the pages), ``outcomes`` (labelled outcomes,
training from the database, the model registry), ``calibration_export`` (the released first
cards and repeats with each baby's outcome and severity, for the reflex second tier's
calibration), ``measures`` (pure measure functions),
``card_measures`` (the per-card figures the measures read, kept up to date), ``programme``
(the measures from the database), ``routes``.
"""

# The per-card figures of the programme measures follow every flush of the service's sessions
# (lims.followup.card_measures registers the hook when it is imported).
from lims.followup import card_measures as card_measures  # noqa: E402
