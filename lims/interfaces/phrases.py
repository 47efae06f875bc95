"""The texts the result-message outbox shows about a delivery, written with phrases so that
the pages read them back and show them in their own language (``lims.web.phrases``): why a
pending message waits (``lims.interfaces.service``), a hospital's rejection
(``lims.interfaces.delivery``), and why a message is withheld (its result was reopened for
correction before it was delivered: written by the correction, or by the delivery that found
it so). Transport errors (the socket's own words) are shown as written.

Public names: ``DELIVERY_PHRASES``.
"""

from __future__ import annotations

from msms.phrases import Phrasebook

__all__ = ["DELIVERY_PHRASES"]

DELIVERY_PHRASES = Phrasebook((
    ("no_endpoint", "no HL7 endpoint for this submitter: the message waits until one is "
                    "given (nbs hl7 endpoint)"),
    ("endpoint_disabled", "the submitter's endpoint is disabled"),
    ("endpoint_failed", "the endpoint failed {failures} time(s) ({error}); next attempt "
                        "{due_at}"),
    ("endpoint_failed_silent", "the endpoint failed {failures} time(s) (no answer); next "
                               "attempt {due_at}"),
    ("queued", "queued for the next delivery pass"),
    ("rejected", "rejected ({ack})"),
    ("withheld_correction", "withheld: version {version} was reopened for correction by "
                            "{user} before it was delivered ({reason})"),
    ("withheld_reopened", "withheld: version {version} was reopened for correction (now "
                          "version {current}) before it was delivered"),
), fields={"failures": r"\d+", "due_at": r"\S+", "ack": r"[A-Z]{2}", "version": r"\d+",
           "current": r"\d+"})
