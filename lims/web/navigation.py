"""The pages each role sees in the navigation, and the roles that handle time-critical alerts
(the banner on every page).

Public names: ``NavItem``, ``NAVIGATION``, ``navigation``, ``alert_roles``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lims.vocabulary import Role

__all__ = ["NAVIGATION", "NavItem", "alert_roles", "navigation"]


@dataclass(frozen=True)
class NavItem:
    path: str
    #: the English label; the templates translate it
    label: str
    roles: frozenset[Role]


_LAB = frozenset({Role.technician, Role.admin})
_REVIEW = frozenset({Role.reviewer, Role.admin})
_STAFF = frozenset({Role.technician, Role.reviewer, Role.follow_up, Role.admin})

NAVIGATION: tuple[NavItem, ...] = (
    NavItem("/lab", "Home", frozenset(Role)),
    NavItem("/lab/accession", "Accession", _LAB),
    NavItem("/lab/search", "Search", _STAFF),
    NavItem("/lab/runs", "Runs", _LAB),
    NavItem("/lab/worklists", "Worklists", _LAB),
    NavItem("/lab/reflex", "Second tier", _LAB),
    NavItem("/lab/review", "Review queue", _REVIEW),
    NavItem("/lab/alerts", "Alerts", frozenset({Role.reviewer, Role.follow_up, Role.admin})),
    NavItem("/lab/messages", "Result messages",
            frozenset({Role.technician, Role.reviewer, Role.admin})),
    NavItem("/lab/audit", "Audit trail", frozenset({Role.admin})),
    NavItem("/followup", "Case board", frozenset({Role.follow_up, Role.admin})),
    NavItem("/clinic", "Referred cases", frozenset({Role.clinic})),
    NavItem("/unit", "My unit", frozenset({Role.submitter})),
    NavItem("/unit/report-card", "Report card", frozenset({Role.submitter})),
    #: admins and directors (reviewers granted the authority; others get a 403 page)
    NavItem("/programme/bulletin", "Programme bulletin", frozenset({Role.admin, Role.reviewer})),
    NavItem("/programme/births", "Live births", frozenset({Role.admin, Role.reviewer})),
)


def navigation(role: str) -> list[NavItem]:
    """The items ``role`` sees, in order."""
    return [item for item in NAVIGATION if role in item.roles]


def alert_roles() -> frozenset[Role]:
    """The roles that see and acknowledge time-critical alerts (as the API's ``Responder``)."""
    return frozenset({Role.reviewer, Role.follow_up, Role.admin})
