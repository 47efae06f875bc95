"""Interfaces to other systems that need no database: the MLLP transport HL7 messages travel on.

The modules here import nothing else from ``lims`` (a test checks it), so the LIMS glue (outbox,
per-submitter endpoints, ``nbs hl7`` commands) builds on them without the reverse.
"""
