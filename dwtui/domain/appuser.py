"""The one-box application user: the app id a person types, and what has to be done in Dataverse.

The documented procedure (lcs-setup.md, "Configure app user for one-box environments"): an
application user for the app registered for the environment, in the root business unit, with a
role such as System Administrator. Making it is idempotent: an existing user is kept and only a
missing role is added.

Dataverse keeps deleted users as "soft deleted" (systemuser.deletedstate 1; powerapps-docs
reference/entities/systemuser.md). They are not the app's user: the lookup skips them, as
terraform-provider-power-platform's GetApplicationUser does (internal/services/application/
api_application.go), and more than one active user for one app is an error there and here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_ROLE = "System Administrator"
# systemuser.deletedstate, a Picklist: 0 Not deleted, 1 Soft deleted (powerapps-docs systemuser.md).
NOT_DELETED = 0
SOFT_DELETED = 1
APP_ID_HINT = "the Application (client) ID of the app registered for this environment"
ACCESS_MODE_NON_INTERACTIVE = 4

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GROUPS = (8, 4, 4, 4, 12)
_SHAPE = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class AppIdCheck:
    """The app id field's state while a person types: `ok` with the normalised value, or a hint."""

    ok: bool
    value: str  # lower-case GUID when ok, the stripped text otherwise
    message: str
    incomplete: bool = False  # a valid beginning: say "keep typing" rather than "wrong"


def check_app_id(text: str) -> AppIdCheck:
    value = text.strip()
    if value.startswith("{") and value.endswith("}") and len(value) > 2:
        value = value[1:-1].strip()  # the registry/PowerShell form {GUID}
    if not value:
        return AppIdCheck(False, "", f"Enter {APP_ID_HINT}.", incomplete=True)
    if _GUID.fullmatch(value):
        return AppIdCheck(True, value.lower(), "A valid application id.")
    problem = _first_problem(value)
    if problem:
        return AppIdCheck(False, value, f"{problem}; an application id looks like {_SHAPE}.")
    typed = len(value)
    return AppIdCheck(False, value, f"Keep typing: {typed} of 36 characters ({_SHAPE}).", incomplete=True)


def _first_problem(value: str) -> str:
    """What is wrong with the text as a beginning of a GUID, or "" when it may still become one."""
    if len(value) > 36:
        return f"Too long: {len(value)} characters, a GUID has 36"
    position = 0
    for group, size in enumerate(_GROUPS):
        for _ in range(size):
            if position >= len(value):
                return ""
            char = value[position]
            if char == "-":
                return f"A hyphen at position {position + 1} comes too early (groups are 8-4-4-4-12)"
            if char not in "0123456789abcdefABCDEF":
                shown = char if char.isprintable() else repr(char)
                return f"'{shown}' at position {position + 1} is not a hexadecimal digit (0-9, a-f)"
            position += 1
        if group < len(_GROUPS) - 1:
            if position >= len(value):
                return ""
            if value[position] != "-":
                return f"Position {position + 1} should be a hyphen (groups are 8-4-4-4-12)"
            position += 1
    return ""


def validate_app_id(text: str) -> str:
    """The normalised app id, or ValueError with the same message the form shows."""
    check = check_app_id(text)
    if not check.ok:
        raise ValueError(check.message)
    return check.value


@dataclass(frozen=True, slots=True)
class BusinessUnit:
    business_unit_id: str
    name: str
    parent_id: str = ""  # _parentbusinessunitid_value; empty for the root

    @property
    def is_root(self) -> bool:
        return not self.parent_id


@dataclass(frozen=True, slots=True)
class SecurityRole:
    role_id: str
    name: str
    business_unit_id: str


@dataclass(frozen=True, slots=True)
class ApplicationUser:
    systemuser_id: str
    application_id: str
    business_unit_id: str
    full_name: str = ""
    roles: tuple[SecurityRole, ...] = ()
    is_disabled: bool = False
    deleted_state: int = NOT_DELETED

    @property
    def is_soft_deleted(self) -> bool:
        return self.deleted_state != NOT_DELETED

    def has_role(self, role: SecurityRole) -> bool:
        return any(r.role_id == role.role_id for r in self.roles)


class MultipleApplicationUsers(ValueError):
    """More than one active (not deleted) application user for one app: dwtui will not pick one."""


@dataclass(frozen=True, slots=True)
class AppUserLookup:
    """Every systemuser Dataverse lists for one application id, split into the active one and the rest."""

    application_id: str
    active: ApplicationUser | None
    soft_deleted: tuple[ApplicationUser, ...] = ()


def split_application_users(application_id: str, users: Sequence[ApplicationUser]) -> AppUserLookup:
    """The one active user (deletedstate 0) and the soft-deleted ones; several active ones are an error."""
    active = [user for user in users if not user.is_soft_deleted]
    if len(active) > 1:
        ids = ", ".join(sorted(user.systemuser_id for user in active))
        raise MultipleApplicationUsers(
            f"Dataverse lists {len(active)} active application users for {application_id} ({ids}); "
            "keep one (Power Platform admin center > Settings > Users + permissions > Application users) "
            "and try again"
        )
    deleted = tuple(user for user in users if user.is_soft_deleted)
    return AppUserLookup(application_id, active[0] if active else None, deleted)


def root_business_unit(units: Sequence[BusinessUnit]) -> BusinessUnit | None:
    return next((unit for unit in units if unit.is_root), None)


def sort_business_units(units: Sequence[BusinessUnit]) -> list[BusinessUnit]:
    """Root first (it is the documented choice), then by name."""
    return sorted(units, key=lambda unit: (not unit.is_root, unit.name.lower()))


def find_role(roles: Sequence[SecurityRole], name: str) -> SecurityRole | None:
    wanted = name.strip().lower()
    return next((role for role in roles if role.name.strip().lower() == wanted), None)


def sort_roles(roles: Sequence[SecurityRole]) -> list[SecurityRole]:
    """The default role first, then by name."""
    return sorted(roles, key=lambda role: (role.name.lower() != DEFAULT_ROLE.lower(), role.name.lower()))


@dataclass(frozen=True, slots=True)
class AppUserPlan:
    """What Create will do: make the user and/or add the role, or nothing."""

    application_id: str
    business_unit: BusinessUnit
    role: SecurityRole
    existing: ApplicationUser | None
    # Skipped by the lookup; deleted for good only if Dataverse refuses the new user while they exist.
    soft_deleted: tuple[ApplicationUser, ...] = ()

    @property
    def create_user(self) -> bool:
        return self.existing is None

    @property
    def add_role(self) -> bool:
        return self.existing is None or not self.existing.has_role(self.role)

    @property
    def nothing_to_do(self) -> bool:
        return not self.create_user and not self.add_role

    def describe(self) -> str:
        if self.existing is None:
            return (
                f"Create an application user for {self.application_id} in business unit "
                f"{self.business_unit.name} and give it the role {self.role.name}.{self.purge_note()}"
            )
        if self.add_role:
            return f"The application user exists; add the role {self.role.name}."
        return f"The application user exists and already has the role {self.role.name}; nothing to do."

    def purge_note(self) -> str:
        """What happens to the soft-deleted users, said before the person confirms ("" if none)."""
        if not self.soft_deleted or self.existing is not None:
            return ""
        ids = ", ".join(user.systemuser_id for user in self.soft_deleted)
        return (
            f" Dataverse also keeps {len(self.soft_deleted)} soft-deleted application user(s) for this app "
            f"({ids}), which do not count. If Dataverse refuses the new user while they exist, dwtui "
            "deletes them permanently (DELETE systemusers(id)) and creates the user once more, as "
            "terraform-provider-power-platform does."
        )


def plan_app_user(
    application_id: str,
    business_unit: BusinessUnit,
    role: SecurityRole,
    existing: ApplicationUser | None,
    soft_deleted: Sequence[ApplicationUser] = (),
) -> AppUserPlan:
    if role.business_unit_id != business_unit.business_unit_id:
        raise ValueError(
            f"the role {role.name} belongs to another business unit; roles are copied per business unit, "
            f"so choose the one of {business_unit.name}"
        )
    return AppUserPlan(validate_app_id(application_id), business_unit, role, existing, tuple(soft_deleted))


@dataclass(frozen=True, slots=True)
class AppUserResult:
    user: ApplicationUser
    business_unit: BusinessUnit
    role: SecurityRole
    created: bool
    role_added: bool
    purged: tuple[str, ...] = ()  # soft-deleted users deleted for good before the create

    def summary(self) -> str:
        if self.created:
            purged = (
                f" First deleted {len(self.purged)} soft-deleted application user(s) permanently "
                f"({', '.join(self.purged)}), because Dataverse refused the new user while they existed."
                if self.purged
                else ""
            )
            return (
                f"Created application user {self.user.systemuser_id} for {self.user.application_id} "
                f"in {self.business_unit.name} with the role {self.role.name}.{purged}"
            )
        if self.role_added:
            return f"The application user already existed; added the role {self.role.name}."
        return f"The application user already existed with the role {self.role.name}; nothing changed."
