"""Why a page is refused (403): English texts written with phrases, so that the error page
reads them back in its own language (``lims.web.phrases``, the ``page_refusal`` filter).

Public names: ``PAGE_REFUSALS``.
"""

from __future__ import annotations

from cutoffs.phrases import Phrasebook

__all__ = ["PAGE_REFUSALS"]

PAGE_REFUSALS = Phrasebook((
    #: a page for other roles (``lims.web.context.pages_for``); ``role`` is the user's
    ("role_may_not_see", "role {role} may not see this page"),
    ("stale_form", "the form is stale or was not sent by this site (CSRF token missing or "
                   "wrong); reload the page"),
    ("no_unit", "this user belongs to no submitting unit"),
    ("programme_for_admins", "the programme's pages are for admins and directors"),
    ("audit_for_admins", "the audit trail is for admins and directors"),
), fields={"role": r"\w+"})
