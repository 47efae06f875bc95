"""The MS/MS core: analyte catalogue, table contracts, quantitation, ratios, plate QC and the
population model. Pure: standard library, numpy, pandas and scikit-learn only.

Public names: ``MsmsError``, ``resolve``, ``analytes``, ``disorders``, ``load_catalogue``.
"""

from msms.catalogue import analytes, disorders, load_catalogue, resolve
from msms.errors import MsmsError

__all__ = ["MsmsError", "analytes", "disorders", "load_catalogue", "resolve"]
