"""Why a page is refused (403), or an upload: English texts written with phrases, so that the
pages read them back in their own language (``lims.web.phrases``: the ``page_refusal`` and
``input_error`` filters). ``PLACES`` reads back where an input error is (``file:line, field
name: ...``, ``lims.errors.InvalidInputError``).

Public names: ``PAGE_REFUSALS``, ``PLACES``, ``UPLOAD_REFUSALS``.
"""

from __future__ import annotations

from msms.phrases import Phrasebook

__all__ = ["PAGE_REFUSALS", "PLACES", "UPLOAD_REFUSALS"]

PAGE_REFUSALS = Phrasebook((
    #: a page for other roles (``lims.web.context.pages_for``); ``role`` is the user's
    ("role_may_not_see", "role {role} may not see this page"),
    ("stale_form", "the form is stale or was not sent by this site (CSRF token missing or "
                   "wrong); reload the page"),
    ("no_unit", "this user belongs to no submitting unit"),
    ("programme_for_admins", "the programme's pages are for admins and directors"),
    ("audit_for_admins", "the audit trail is for admins and directors"),
), fields={"role": r"\w+"})

#: An instrument file no profile of the laboratory reads (``instruments.profile_choice``): the
#: page's advice, not the command line's.
UPLOAD_REFUSALS = Phrasebook((
    ("no_profile", "no instrument profile of the laboratory fits this file's header (tried: "
                   "{tried}). Upload the export as the instrument's software wrote it, or ask "
                   "an administrator to add a profile that describes its columns"),
))

#: Where an input error is, as ``lims.errors.InvalidInputError`` writes it before its message.
PLACES = Phrasebook((
    ("file_field", "{where}, field {field}: {message}"),
    ("field", "field {field}: {message}"),
    ("file", "{where}: {message}"),
), fields={"where": r"[^\s,:]+(?::\d+)?", "field": r"[\w.]+"})
