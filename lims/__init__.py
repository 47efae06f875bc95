"""The laboratory information system: data model, workflows, services, API, web pages, CLI and
settings. It orchestrates the pure core and persists what it produces.

Public names: ``LimsError``.
"""

from lims.errors import LimsError

__all__ = ["LimsError"]
