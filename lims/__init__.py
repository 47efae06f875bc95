"""The laboratory information system: data model, workflows, services, API, web pages, CLI and
settings. It orchestrates the pure core and persists what it produces.

Public names: ``LimsError``, ``__version__`` (the project's version, which pyproject.toml
reads from here).
"""

from lims.errors import LimsError

__all__ = ["LimsError", "__version__"]

__version__ = "0.1.0"
