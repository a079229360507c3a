"""The one-box application user: the app id a person types, and what has to be done in Dataverse.

The documented procedure (lcs-setup.md, "Configure app user for one-box environments"): an
application user for the app registered for the environment, in the root business unit, with a
role such as System Administrator. Making it is idempotent: an existing user is kept and only a
missing role is added.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_ROLE = "System Administrator"
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

    def has_role(self, role: SecurityRole) -> bool:
        return any(r.role_id == role.role_id for r in self.roles)


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
                f"{self.business_unit.name} and give it the role {self.role.name}."
            )
        if self.add_role:
            return f"The application user exists; add the role {self.role.name}."
        return f"The application user exists and already has the role {self.role.name}; nothing to do."


def plan_app_user(
    application_id: str, business_unit: BusinessUnit, role: SecurityRole, existing: ApplicationUser | None
) -> AppUserPlan:
    if role.business_unit_id != business_unit.business_unit_id:
        raise ValueError(
            f"the role {role.name} belongs to another business unit; roles are copied per business unit, "
            f"so choose the one of {business_unit.name}"
        )
    return AppUserPlan(validate_app_id(application_id), business_unit, role, existing)


@dataclass(frozen=True, slots=True)
class AppUserResult:
    user: ApplicationUser
    business_unit: BusinessUnit
    role: SecurityRole
    created: bool
    role_added: bool

    def summary(self) -> str:
        if self.created:
            return (
                f"Created application user {self.user.systemuser_id} for {self.user.application_id} "
                f"in {self.business_unit.name} with the role {self.role.name}."
            )
        if self.role_added:
            return f"The application user already existed; added the role {self.role.name}."
        return f"The application user already existed with the role {self.role.name}; nothing changed."
