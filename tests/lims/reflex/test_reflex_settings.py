"""The reflex settings: off by default, ``NBS_REFLEX`` with the literature levels,
``NBS_REFLEX_CALIBRATION`` with calibrated levels, refused when calibrated on other rules."""

from __future__ import annotations

import pytest

from cutoffs.reflex.calibrate import CalibratedReflex, write_calibration
from cutoffs.reflex.decide import Calibration
from cutoffs.reflex.rules import default_reflex_rules
from lims.errors import ConfigurationError
from lims.pipeline import ScreeningPipeline
from lims.settings import Settings


def _calibration(tmp_path, sha256: str):  # type: ignore[no-untyped-def]
    rules = default_reflex_rules()
    calibrated = CalibratedReflex(Calibration(scale={"C5": 0.7}), rules.version, sha256,
                                  "test-cutoffs", rules.mild_miss_bound,
                                  rules.mild_miss_bound_by_disorder, 1000)
    return calibrated, write_calibration(calibrated, tmp_path / "calibration.json")


def test_off_literature_or_calibrated(tmp_path):
    assert ScreeningPipeline.from_settings(Settings(environment="test")).reflex is None
    literature = ScreeningPipeline.from_settings(Settings(environment="test", reflex=True))
    assert literature.reflex is not None
    assert literature.reflex.version.endswith("literature")
    calibrated, path = _calibration(tmp_path, default_reflex_rules().sha256)
    chosen = ScreeningPipeline.from_settings(Settings(environment="test",
                                                      reflex_calibration=path)).reflex
    assert chosen is not None and chosen.version == calibrated.version
    assert chosen.calibration.scale == {"C5": 0.7}


def test_a_calibration_of_other_rules_stops_start_up(tmp_path):
    _, path = _calibration(tmp_path, "0" * 64)
    with pytest.raises(ConfigurationError, match="NBS_REFLEX_CALIBRATION=.*calibrated on"):
        ScreeningPipeline.from_settings(Settings(environment="test", reflex_calibration=path))


def test_genotypes_make_the_fao_group_wait(tmp_path):
    """``NBS_REFLEX_GENOTYPES``: the FAO group waits for ACADM and ACADVL (the packaged rules
    decide it without them), the other groups as before; it turns the reflex on, and keeps a
    calibration of the rules file (its hash is the file's)."""
    rules = default_reflex_rules()
    assert not rules.group("FAO").await_assays
    alone = ScreeningPipeline.from_settings(Settings(environment="test", reflex_genotypes=True))
    assert alone.reflex is not None
    assert alone.reflex.version.endswith("literature genotyped")
    fao = alone.reflex.rules.group("FAO")
    assert fao.await_assays and fao.assays == ("ACADM", "ACADVL")
    assert all(g == alone.reflex.rules.group(g.code) for g in rules.groups if g.code != "FAO")
    assert alone.reflex.rules.sha256 == rules.sha256
    calibrated, path = _calibration(tmp_path, rules.sha256)
    both = ScreeningPipeline.from_settings(Settings(environment="test", reflex_calibration=path,
                                                    reflex_genotypes=True)).reflex
    assert both is not None and both.version == f"{calibrated.version} genotyped"
    assert both.rules.group("FAO").await_assays and both.calibration.scale == {"C5": 0.7}
