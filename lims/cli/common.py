"""What the ``nbs`` commands share: the exit status of a rejected input.

Public names: ``EXIT_REJECTED``.
"""

from __future__ import annotations

__all__ = ["EXIT_REJECTED"]

#: docs/architecture.md "Command line": the exit status when an input or a setting is rejected.
EXIT_REJECTED = 3
