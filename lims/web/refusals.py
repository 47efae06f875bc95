"""Why a page is refused (403), or an upload: English texts written with phrases, so that the
pages read them back in their own language (``lims.web.phrases``: the ``page_refusal`` and
``input_error`` filters). ``PLACES`` reads back where an input error is (``file:line, field
name: ...``, ``lims.errors.InvalidInputError``). ``FORM_REFUSALS`` are the pages' own checks of
a form before its service call (a decision not chosen, a reason not given, two new passwords
that differ, an upload too large).

Public names: ``FORM_REFUSALS``, ``PAGE_REFUSALS``, ``PLACES``, ``UPLOADS``,
``UPLOAD_REFUSALS``.
"""

from __future__ import annotations

from msms.phrases import Phrasebook

__all__ = ["FORM_REFUSALS", "PAGE_REFUSALS", "PLACES", "UPLOADS", "UPLOAD_REFUSALS"]

PAGE_REFUSALS = Phrasebook((
    #: a page for other roles (``lims.web.context.pages_for``); ``role`` is the user's
    ("role_may_not_see", "role {role} may not see this page"),
    ("stale_form", "the form is stale or was not sent by this site (CSRF token missing or "
                   "wrong); reload the page"),
    ("no_unit", "this user belongs to no submitting unit"),
    ("programme_for_admins", "the programme's pages are for admins and directors"),
    ("audit_for_admins", "the audit trail is for admins and directors"),
), fields={"role": r"\w+"})

#: An instrument file no profile of the laboratory reads (``instruments.profile_choice``), or
#: no reader recognises (``instruments.formats``): the page's advice, not the command line's.
UPLOAD_REFUSALS = Phrasebook((
    ("no_profile", "no instrument profile of the laboratory fits this file's header (tried: "
                   "{tried}). Upload the export as the instrument's software wrote it, or ask "
                   "an administrator to add a profile that describes its columns"),
    ("no_reader", "no reader of the laboratory recognises this file (the formats read: "
                  "{formats}). Upload the export as the instrument's software wrote it"),
))

#: Where an input error is, as ``lims.errors.InvalidInputError`` writes it before its message
#: (and ``msms.errors.DataError``, the field quoted, or a line without a file).
PLACES = Phrasebook((
    ("file_field", "{where}, field {field}: {message}"),
    ("field", "field {field}: {message}"),
    ("file_quoted_field", "{where}, field '{field}': {message}"),
    ("line_quoted_field", "line {line}, field '{field}': {message}"),
    ("quoted_field", "field '{field}': {message}"),
    ("line", "line {line}: {message}"),
    ("file", "{where}: {message}"),
), fields={"where": r"[^\s,:]+(?::\d+)?", "field": r"[\w.]+", "line": r"\d+"})

#: A form the page refuses before its service call (the field is the error's place).
FORM_REFUSALS = Phrasebook((
    ("choose_decision", "choose a decision"),
    ("reason_for_decision", "give a reason for this decision"),
    ("reason_for_correction", "give a reason for the correction"),
    ("not_counted", "the form does not say which normal results were counted; open the review "
                    "queue again"),
    ("passwords_differ", "the two new passwords differ"),
    ("choose_export", "choose the instrument's export file"),
    ("upload_too_large", "{what} is larger than the upload limit of {limit} bytes"),
    ("repeat_barcode", "give the repeat card's barcode"),
    ("choose_one_of", "choose one of {choices}"),
    ("why_letter_again", "say why the letter is issued again"),
), fields={"limit": r"\d+"})

#: What an upload is (``lims.web.lab_pages.read_upload``), named in ``upload_too_large``.
UPLOADS = Phrasebook((
    ("card_file", "the card file"),
    ("instrument_file", "the instrument file"),
    ("plate_map", "the plate map"),
    ("live_births", "the live-births file"),
    ("file", "the file"),
))
