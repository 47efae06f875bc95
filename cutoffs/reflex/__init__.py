"""Reflex second tier: second-tier assays on the same card, repeat specimens and context, and a
three-way decision per baby and referral group (docs/second_tier.md "Reflex second tier").

Modules: ``rules`` (the versioned reflex rules), ``decide`` (the decision), ``calibrate``
(thresholds chosen on a calibration population), ``measure`` (what a decision achieves on a
labelled population).
"""
