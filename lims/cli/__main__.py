"""``python -m lims.cli`` is the ``nbs`` command."""

from lims.cli import main

main()
