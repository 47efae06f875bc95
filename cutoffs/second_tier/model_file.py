"""The second-tier model and its file: a joblib file with metadata checked before use.

A :class:`SecondTierModel` holds the fitted classifier, the feature specification, the
per-disorder thresholds, the explainer, the policy and the metadata: SHA-256 of the training
file, training date, features, thresholds, cross-validation metrics, library versions.

The file is a joblib dump of a plain dictionary: a format tag, the metadata (plain values only)
and the pickled model as bytes. :func:`load_model` reads the metadata first and refuses a model
whose scikit-learn major.minor or numpy major version differs from the running ones, or whose
features this installation cannot build (an analyte unknown to the catalogue, a feature list
that no longer matches its specification), before it unpickles anything else. Like every pickle,
a model file runs code when loaded: load only model files from a trusted source.

Public names: ``SecondTierModel``, ``ModelFileError``, ``save_model``, ``load_model``,
``read_metadata``, ``library_versions``, ``FORMAT``, ``FORMAT_VERSION``.
"""

from __future__ import annotations

import io
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from cutoffs.errors import CutoffError
from cutoffs.second_tier.estimator import SecondTierClassifier
from cutoffs.second_tier.explain import Explainer
from cutoffs.second_tier.features import FeatureSpec
from cutoffs.second_tier.policy import Policy
from cutoffs.second_tier.thresholds import DisorderThreshold
from msms.catalogue import Catalogue, default_catalogue

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "SecondTierModel",
    "library_versions",
    "load_model",
    "read_metadata",
    "save_model",
]

FORMAT = "nbs-second-tier-model"
FORMAT_VERSION = 1


class ModelFileError(CutoffError):
    """A model file cannot be used here (not a model, other library versions, other features)."""


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model depends on, as recorded in its metadata."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


@dataclass
class SecondTierModel:
    """Everything needed to score screen positives, and the record of how it was made."""

    classifier: SecondTierClassifier
    spec: FeatureSpec
    thresholds: dict[str, DisorderThreshold]
    explainer: Explainer
    policy: Policy
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """The model version written to the calls' ``model_version`` column."""
        return str(self.metadata.get("model_version", ""))


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _check_versions(recorded: dict[str, str], file: str) -> None:
    running = library_versions()
    sk = recorded.get("scikit-learn", "")
    if _major_minor(sk) != _major_minor(running["scikit-learn"]):
        raise ModelFileError(
            f"was trained with scikit-learn {sk}; this installation has "
            f"{running['scikit-learn']} (major.minor must match): retrain the model here",
            file=file, field="versions.scikit-learn",
        )
    np_version = recorded.get("numpy", "")
    if np_version.split(".")[:1] != running["numpy"].split(".")[:1]:
        raise ModelFileError(
            f"was trained with numpy {np_version}; this installation has {running['numpy']} "
            "(major must match): retrain the model here",
            file=file, field="versions.numpy",
        )


def _check_features(metadata: dict[str, Any], file: str, catalogue: Catalogue) -> None:
    spec = metadata.get("feature_spec")
    features = metadata.get("features")
    if not isinstance(spec, dict) or not isinstance(features, list):
        raise ModelFileError("has no feature specification", file=file, field="features")
    analytes = list(spec.get("analytes", []))
    for code in analytes:
        if catalogue.try_resolve(code) != code:
            raise ModelFileError(
                f"uses analyte {code!r}, which the analyte catalogue does not know",
                file=file, field="features",
            )
    ratios = spec.get("ratios", {})
    for name, (numerator, denominator) in ratios.items():
        unknown = [c for c in (*numerator, *denominator) if c not in analytes]
        if unknown:
            raise ModelFileError(
                f"ratio {name!r} reads {unknown[0]!r}, which is not among its analytes",
                file=file, field="features",
            )
    covariates = ["sex_male" if c == "sex" else c for c in spec.get("covariates", [])]
    expected = analytes + list(ratios) + covariates
    if features != expected:
        raise ModelFileError(
            "its feature list does not match its feature specification "
            f"({len(features)} recorded, {len(expected)} specified)",
            file=file, field="features",
        )


def save_model(model: SecondTierModel, path: Path | str) -> None:
    """Write the model file (joblib, compressed); the metadata is stored in plain values."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    envelope = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "metadata": model.metadata,
        "payload": buffer.getvalue(),
    }
    joblib.dump(envelope, Path(path))


def _envelope(path: Path | str) -> dict[str, Any]:
    file = str(path)
    try:
        envelope = joblib.load(Path(path))
    except FileNotFoundError:
        raise ModelFileError("no such model file", file=file) from None
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a model file"
        raise ModelFileError(f"is not a second-tier model file ({exc})", file=file) from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise ModelFileError("is not a second-tier model file", file=file, field="format")
    if envelope.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"has format version {envelope.get('format_version')!r}; this installation reads "
            f"{FORMAT_VERSION}",
            file=file, field="format_version",
        )
    return envelope


def read_metadata(path: Path | str) -> dict[str, Any]:
    """The metadata of a model file, without unpickling the model."""
    return dict(_envelope(path)["metadata"])


def load_model(path: Path | str, *, catalogue: Catalogue | None = None) -> SecondTierModel:
    """Read a model file after checking its versions and features.

    Raises
    ------
    ModelFileError
        When the file is not a model file, was made with another scikit-learn major.minor or
        numpy major version, or needs features this installation cannot build.
    """
    file = str(path)
    envelope = _envelope(path)
    metadata = envelope["metadata"]
    _check_versions(metadata.get("versions", {}), file)
    _check_features(metadata, file, catalogue or default_catalogue())
    model = joblib.load(io.BytesIO(envelope["payload"]))
    if not isinstance(model, SecondTierModel):
        raise ModelFileError("holds no second-tier model", file=file, field="payload")
    names = list(getattr(model.classifier, "feature_names_in_", []))
    if names != ["disorder", *metadata["features"]]:
        raise ModelFileError(
            "its classifier was fitted on other features than its metadata lists",
            file=file, field="features",
        )
    return model
