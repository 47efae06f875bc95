"""HL7 interfaces of the LIMS (docs/hl7.md): result messages out through a persistent outbox,
card data in, over MLLP.

- ``mllp``: the MLLP transport (framing, client, asyncio server); it imports nothing else from
  ``lims``, so it can be used and tested on its own;
- ``results``: the view model of a release's ORU^R01, from the stored data;
- ``service``: the outbox (``enqueue_release``, called in the release's transaction; listing,
  resending) and the submitters' endpoints;
- ``delivery``: the worker that sends the outbox and records acknowledgments; ``scheduler``:
  the service's periodic delivery;
- ``inbound``: OML^O21 orders and card CSV files through the accession service;
  ``listener``: the inbound MLLP listener;
- ``repository``, ``schemas``, ``routes``: the domain's queries, models and HTTP API.
"""
