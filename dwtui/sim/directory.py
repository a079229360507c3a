"""Who a simulated Dataverse org knows: business units, roles copied per unit, and system users.

Each org's directory is made on first use with the same deterministic ids every run: a root
business unit named after the org and one child unit; System Administrator, Basic User and
Dual-write runtime user in each unit (with different ids per unit, as Dataverse copies roles);
the signed-in person, and an application user for the confidential app. The one-box app gets an
application user only in the one-box's org (contosodev), unless a scenario removes it.

Users carry deletedstate (0 Not deleted, 1 Soft deleted; powerapps-docs reference/entities/
systemuser.md). A soft-deleted user stays listed but is nobody's application user any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dwtui.sim import ids

ROLE_NAMES = ("System Administrator", "Basic User", "Dual-write runtime user")
SYSTEM_ADMINISTRATOR = "System Administrator"
ONEBOX_ORG = "contosodev"
NOT_DELETED = 0
SOFT_DELETED = 1


@dataclass
class BusinessUnitRecord:
    business_unit_id: str
    name: str
    parent_id: str | None = None


@dataclass
class RoleRecord:
    role_id: str
    name: str
    business_unit_id: str


@dataclass
class SystemUserRecord:
    systemuser_id: str
    full_name: str
    business_unit_id: str
    application_id: str | None = None  # set for application users
    azure_object_id: str = ""
    access_mode: int = 0
    is_disabled: bool = False
    role_ids: list[str] = field(default_factory=list)
    deleted_state: int = NOT_DELETED


@dataclass
class OrgDirectory:
    unique_name: str
    business_units: dict[str, BusinessUnitRecord] = field(default_factory=dict)
    roles: dict[str, RoleRecord] = field(default_factory=dict)
    users: dict[str, SystemUserRecord] = field(default_factory=dict)

    @property
    def root(self) -> BusinessUnitRecord:
        return next(unit for unit in self.business_units.values() if unit.parent_id is None)

    def role(self, business_unit_id: str, name: str) -> RoleRecord:
        return next(
            role
            for role in self.roles.values()
            if role.business_unit_id == business_unit_id and role.name == name
        )

    def application_users(self, application_id: str) -> list[SystemUserRecord]:
        """Every user with this applicationid, soft-deleted ones included."""
        wanted = application_id.lower()
        return [u for u in self.users.values() if (u.application_id or "").lower() == wanted]

    def application_user(self, application_id: str) -> SystemUserRecord | None:
        """The app's active (not soft-deleted) application user."""
        return next(
            (u for u in self.application_users(application_id) if u.deleted_state == NOT_DELETED), None
        )

    def add_application_user(
        self, application_id: str, role_names: tuple[str, ...] = (SYSTEM_ADMINISTRATOR,), name: str = ""
    ) -> SystemUserRecord:
        existing = self.application_user(application_id)
        if existing is not None:
            return existing
        root = self.root
        user = SystemUserRecord(
            systemuser_id=ids.derived_guid("systemuser", self.unique_name, application_id.lower()),
            full_name=name or f"# {application_id.lower()}",
            business_unit_id=root.business_unit_id,
            application_id=application_id.lower(),
            access_mode=4,
            role_ids=[self.role(root.business_unit_id, role).role_id for role in role_names],
        )
        self.users[user.systemuser_id] = user
        return user

    def remove_application_user(self, application_id: str) -> None:
        user = self.application_user(application_id)
        if user is not None:
            del self.users[user.systemuser_id]

    def soft_delete_application_user(self, application_id: str) -> SystemUserRecord | None:
        """Mark the app's user soft deleted under an id of its own, as a user deleted long ago."""
        user = self.application_user(application_id)
        if user is None:
            return None
        del self.users[user.systemuser_id]
        user.systemuser_id = ids.derived_guid("deleted-systemuser", self.unique_name, application_id.lower())
        user.deleted_state = SOFT_DELETED
        user.is_disabled = True  # as terraform-provider-power-platform's soft-deleted fixture has it
        user.role_ids.clear()
        self.users[user.systemuser_id] = user
        return user

    def is_member_app(self, application_id: str) -> bool:
        """Whether an app-only token is let in: an active, enabled application user, role or not.

        Without one, Dataverse answers 0x80072560 "not a member of the organization". A disabled user
        is refused the same way here [I: Dataverse's answer for it is not in the sources].
        """
        user = self.application_user(application_id)
        return user is not None and not user.is_disabled


def new_directory(unique_name: str, person_object_id: str, person_name: str) -> OrgDirectory:
    directory = OrgDirectory(unique_name)
    root = BusinessUnitRecord(ids.derived_guid("root-business-unit", unique_name), unique_name)
    child = BusinessUnitRecord(
        ids.derived_guid("business-unit", unique_name, "sales"), "Sales", parent_id=root.business_unit_id
    )
    for unit in (root, child):
        directory.business_units[unit.business_unit_id] = unit
        for name in ROLE_NAMES:
            role = RoleRecord(
                ids.derived_guid("role", unique_name, unit.business_unit_id, name),
                name,
                unit.business_unit_id,
            )
            directory.roles[role.role_id] = role
    person = SystemUserRecord(
        systemuser_id=ids.derived_guid("systemuser", unique_name, person_object_id),
        full_name=person_name,
        business_unit_id=root.business_unit_id,
        azure_object_id=person_object_id,
        role_ids=[directory.role(root.business_unit_id, SYSTEM_ADMINISTRATOR).role_id],
    )
    directory.users[person.systemuser_id] = person
    directory.add_application_user(ids.CONFIDENTIAL_CLIENT_ID, name="dwtui automation")
    if unique_name.lower() == ONEBOX_ORG:
        directory.add_application_user(ids.ONEBOX_CLIENT_ID, name="contoso-dev one-box")
    return directory
