"""Outcomes as labelled data, training on them, and the second-tier model registry
(docs/followup.md "Outcomes", "Model registry").

- ``labelled_outcomes``: one row per suspected disorder of every case with a final resolution
  that the case's card was flagged for (docs/architecture.md "Labelled outcomes"): the
  triggering card's profile (covariates from the card and baby, the mean of its wells on its
  latest run), ``disorder``, ``outcome`` (``true_positive`` when the diagnosis confirmed that
  disorder, else ``false_positive``), ``first_tier``, and the follow-up's ``outcome_class``
  and ``case_id``. Cases lost to follow-up, moved, declined or deceased are not labelled; a
  disorder the card was not flagged for (a case opened by hand on a card read as normal) is
  not a screen positive and is counted, not labelled (``labelled_and_missed``).
- ``train_from_database``: holds back a share of the cases (stratified, by case), trains the
  second tier on the rest with ``cutoffs.second_tier.training.train_model`` (as ``nbs
  second-tier train`` does a file), writes the model file and registers it as a candidate with
  its figures on the held-back outcomes.
- ``activate_model``: a reviewer with the director's authority, signing with the password,
  makes a candidate that passed its check the active model (the previous one is retired); the
  service then screens with it (``configured_pipeline``).

Public names: ``LABELLED_EXTRA``, ``labelled_outcomes``, ``labelled_and_missed``, ``split_by_case``,
``train_from_database``, ``register_model``, ``activate_model``, ``list_models``,
``active_model_path``, ``configured_pipeline``, ``file_sha256``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from cutoffs.second_tier.labelled import OUTCOMES, sha256_of, validate_labelled
from cutoffs.second_tier.policy import Policy, default_policy
from lims.accession.repository import infants_by_ids
from lims.audit import Actor, snapshot, store
from lims.auth.service import confirm_password
from lims.errors import ConflictError, InvalidInputError, PermissionDeniedError, found
from lims.followup import repository
from lims.followup.measures import RESOLVED
from lims.models import ModelRecord, User, utcnow
from lims.pipeline import ScreeningPipeline, card_covariates
from lims.review.repository import current_calls
from lims.review.service import latest_values
from lims.settings import Settings
from lims.vocabulary import ModelStatus, OutcomeClass, Role
from msms.tables import PROFILE_ID

if TYPE_CHECKING:
    from cutoffs.second_tier.model_file import SecondTierModel

# scikit-learn and the model modules load with the functions that train, evaluate or load a
# model: exporting outcomes, ingesting a plate and starting the web service do not need them

__all__ = ["LABELLED_EXTRA", "activate_model", "active_model_path", "configured_pipeline",
           "file_sha256", "labelled_and_missed", "labelled_outcomes", "list_models",
           "register_model", "split_by_case", "train_from_database"]

#: Columns the export adds to the labelled-outcomes contract.
LABELLED_EXTRA: tuple[str, ...] = ("first_tier", "outcome_class", "case_id")


def labelled_outcomes(session: Session) -> pd.DataFrame:
    """The laboratory's resolved cases as a labelled table (one row per suspected disorder
    that the case's card was flagged for: the screen positives)."""
    return labelled_and_missed(session)[0]


def labelled_and_missed(session: Session) -> tuple[pd.DataFrame, int]:
    """``labelled_outcomes`` and how many suspected disorders of resolved cases were left out
    because the case's card was not flagged for them (a case opened by hand on a card the
    first tier read as normal: confirmed, it is a case the first tier missed, not a screen
    positive)."""
    cases = [c for c in repository.labelled_case_rows(session, RESOLVED) if c.suspected]
    specimens = repository.specimens_by_ids(session, [c.specimen_id for c in cases])
    infants = infants_by_ids(session, [s.infant_id for s in specimens.values()])
    ids = list(specimens)
    values = latest_values(session, ids)
    calls = current_calls(session, ids)
    # the programme's measures tell a screen positive by the same flags (CaseRow.screen_positive)
    flags = repository.flagged_disorders(session, ids)
    rows: list[dict[str, Any]] = []
    missed = 0
    for case in cases:
        specimen = specimens[case.specimen_id]
        assert specimen.id is not None
        flagged = flags.get(specimen.id, set())
        tiers = {c.disorder: c.first_tier for c in calls.get(specimen.id, [])}
        profile = {PROFILE_ID: specimen.barcode,
                   **card_covariates(specimen, infants[specimen.infant_id]),
                   **values.get(specimen.id, {})}
        for disorder in case.suspected or []:
            if disorder not in flagged:
                missed += 1
                continue
            true = (case.outcome == OutcomeClass.confirmed
                    and case.diagnosed_disorder == disorder)
            rows.append({**profile, "disorder": disorder, "outcome": OUTCOMES[0 if true else 1],
                         "first_tier": tiers[disorder],
                         "outcome_class": case.outcome, "case_id": case.id})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[PROFILE_ID, "disorder", "outcome", *LABELLED_EXTRA]), missed
    front = [PROFILE_ID, "birth_weight_g", "gestational_age_weeks", "age_at_collection_hours",
             "sex", "tpn", "transfused"]
    tail = ["disorder", "outcome", *LABELLED_EXTRA]
    analytes = sorted(c for c in frame.columns if c not in (*front, *tail))
    return frame[[*front, *analytes, *tail]], missed


def split_by_case(labelled: pd.DataFrame, *, holdout_fraction: float,
                  seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and held-back rows: whole cases held back, stratified by whether the case has
    a true positive."""
    from sklearn.model_selection import train_test_split

    per_case = labelled.groupby("case_id")["outcome"].agg(
        lambda o: int((o == OUTCOMES[0]).any()))
    ids = per_case.index.to_numpy()
    labels = per_case.to_numpy()
    stratify = labels if np.bincount(labels, minlength=2).min() >= 2 else None
    train_ids, held_ids = train_test_split(ids, test_size=holdout_fraction, random_state=seed,
                                           stratify=stratify)
    return (labelled[labelled["case_id"].isin(train_ids)].reset_index(drop=True),
            labelled[labelled["case_id"].isin(held_ids)].reset_index(drop=True))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _check(metrics: dict[str, Any] | None) -> tuple[bool, str]:
    """A candidate passes when the held-back outcomes hold true positives and it keeps every
    one of them (no held-back affected baby would have been cleared)."""
    if not metrics:
        return False, "no held-back outcomes to check the model on"
    overall = metrics["overall"]
    n_tp, kept = overall["true_positives"], overall["true_positives_kept"]
    if not n_tp:
        return False, "the held-back outcomes hold no true positive"
    if kept < n_tp:
        return False, f"it would clear {n_tp - kept} of {n_tp} held-back true positives"
    return True, (f"kept all {n_tp} held-back true positives; removed "
                  f"{overall['false_positives_removed']} of {overall['false_positives']} "
                  "false positives")


def register_model(session: Session, actor: Actor, path: Path, model: SecondTierModel, *,
                   holdout: pd.DataFrame | None) -> ModelRecord:
    """Register a model file as a candidate, with its figures on ``holdout`` and whether it
    passes the check an activation needs."""
    from cutoffs.second_tier.apply import evaluate_labelled

    if repository.model_by_version(session, model.version) is not None:
        raise ConflictError(f"model {model.version} is already registered")
    metrics = None
    if holdout is not None and len(holdout):
        table = validate_labelled(holdout, source="held-back outcomes")
        metrics = evaluate_labelled(model, table, source="held-back outcomes")
    passed, note = _check(metrics)
    trained = model.metadata.get("trained_at")
    row = ModelRecord(
        version=model.version, file_path=str(Path(path).resolve()),
        file_sha256=file_sha256(path), status=ModelStatus.candidate,
        trained_at=pd.Timestamp(trained).to_pydatetime() if trained else None,
        registered_at=utcnow(), registered_by_name=actor.username,
        training_rows=int(model.metadata.get("training_rows") or 0),
        holdout_rows=0 if holdout is None else len(holdout),
        holdout_metrics=_plain(metrics), check_passed=passed, check_note=note)
    return store(session, actor, "register_model", "model_registry", row)


def _plain(value: Any) -> Any:
    """JSON-safe values (NaN -> None, numpy numbers -> Python)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def train_from_database(session: Session, actor: Actor, out: Path, *,
                        holdout_fraction: float = 0.25, seed: int = 20260,
                        policy: Policy | None = None, validate: bool = True,
                        progress: Any = None) -> ModelRecord:
    """Train on the laboratory's resolved cases (a share held back), write ``out``, register
    it as a candidate checked on the held-back cases."""
    from cutoffs.second_tier.features import default_feature_spec
    from cutoffs.second_tier.model_file import save_model
    from cutoffs.second_tier.training import train_model

    if not 0 < holdout_fraction < 1:
        raise InvalidInputError("must be between 0 and 1", field="holdout_fraction")
    labelled = labelled_outcomes(session)
    if labelled.empty:
        raise InvalidInputError("no case has a recorded diagnosis yet: nothing to train on",
                                field="outcome")
    train, held = split_by_case(labelled, holdout_fraction=holdout_fraction, seed=seed)
    table = validate_labelled(train, source="the laboratory's outcomes")
    policy = policy or default_policy()
    data = table.to_csv(index=False).encode()
    model = train_model(table, default_feature_spec(policy), policy,
                        training_sha256=sha256_of(data), source="database outcomes",
                        validate=validate, **({"progress": progress} if progress else {}))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, out)
    return register_model(session, actor, out, model, holdout=held)


def list_models(session: Session) -> list[ModelRecord]:
    return repository.models(session)


def activate_model(session: Session, user: User, model_id: int, *,
                   password: str) -> ModelRecord:
    """A director activates a candidate that passed its check, signing with the password; the
    file must still be the one registered and must load. Audited."""
    from cutoffs.second_tier.model_file import load_model

    confirm_password(user, password, session.get_bind())
    actor = Actor.of(user)
    if user.role != Role.reviewer or not repository.is_director(session, user.id):
        raise PermissionDeniedError("only a reviewer with the director's authority activates "
                                    "a second-tier model")
    row = found(session.get(ModelRecord, model_id), f"model {model_id}")
    if row.status != ModelStatus.candidate:
        raise ConflictError(f"model {row.version} is {row.status}, not a candidate")
    if not row.check_passed:
        raise ConflictError(f"model {row.version} did not pass its check: {row.check_note}")
    path = Path(row.file_path)
    if not path.is_file() or file_sha256(path) != row.file_sha256:
        raise ConflictError(f"model file {path} is missing or changed since it was "
                            "registered")
    load_model(path)  # a file that no longer fits this installation is refused here
    before = snapshot(row)
    now = utcnow()
    retired = repository.retire_active(session, now)
    row.status, row.activated_at, row.activated_by = ModelStatus.active, now, actor.user_id
    return store(session, actor, "activate_model", "model_registry", row, before=before,
                 after={**(snapshot(row) or {}), "retired": retired})


def active_model_path(session: Session) -> Path | None:
    """The active registered model's file (None when none is active)."""
    row = repository.active_model(session)
    return None if row is None else Path(row.file_path)


def configured_pipeline(settings: Settings, engine: Engine | None = None,
                        **options: Any) -> ScreeningPipeline:
    """The screening pipeline the settings configure, with the registry's active second-tier
    model when one is active (it takes the place of ``NBS_SECOND_TIER_MODEL``): the one way
    the service and ``nbs ingest`` build it."""
    pipeline = ScreeningPipeline.from_settings(settings, **options)
    if engine is None:
        return pipeline
    try:
        with Session(engine) as session:
            path = active_model_path(session)
    except SQLAlchemyError:  # not migrated yet: nothing registered
        return pipeline
    if path is None:
        return pipeline
    return pipeline.with_second_tier(path, source="the model registry's active model")
