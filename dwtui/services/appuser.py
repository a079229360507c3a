"""The one-box application user through the Dataverse Web API (signed in as the admin).

Reads: business units, the roles of one unit, the application user by applicationid (with
deletedstate: soft-deleted users are skipped). Writes: POST systemusers (applicationid, accessmode
4, the business unit bound) and the role association (POST systemusers(id)/
systemuserroles_association/$ref, 204). POSTs are never retried: a create that timed out may have
happened, and the next run finds the user and only adds what is missing. When Dataverse refuses the
create while soft-deleted users of the app exist, those (named in the confirmed plan) are deleted
for good and the create is sent once more, as terraform-provider-power-platform's
CreateScopedApplicationUser does (internal/services/application/api_application.go).
Dataverse's own error codes reach the caller through the HTTP policy's mapping.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from dwtui.domain.appuser import (
    ACCESS_MODE_NON_INTERACTIVE,
    DEFAULT_ROLE,
    NOT_DELETED,
    ApplicationUser,
    AppUserLookup,
    AppUserPlan,
    AppUserResult,
    BusinessUnit,
    MultipleApplicationUsers,
    SecurityRole,
    find_role,
    plan_app_user,
    root_business_unit,
    sort_business_units,
    sort_roles,
    split_application_users,
    validate_app_id,
)
from dwtui.domain.models import Fault
from dwtui.services.activity import ActivityEntry
from dwtui.services.dataverse import HEADERS, SERVICE, DataverseClient
from dwtui.services.errors import ServiceError
from dwtui.services.shapes import expect_dict, expect_list, malformed, text

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ENTITY_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")
# The lookup terraform-provider-power-platform makes (getApplicationUsersByApplicationId, api_application.go).
_USER_SELECT = "systemuserid,applicationid,fullname,_businessunitid_value,isdisabled,deletedstate"
_ROLES_EXPAND = "systemuserroles_association($select=roleid,name,_businessunitid_value)"
# A create Dataverse refused outright (nothing was made), so it may be sent again after the purge [I]:
# TF retries after any failure, but a 5xx or a timeout may hide a create that happened.
_REFUSED = frozenset({400, 409, 412})


def _input_error(message: str, code: str) -> ServiceError:
    return ServiceError(Fault(SERVICE, message, code))


class ApplicationUsers:
    def __init__(self, dataverse: DataverseClient, *, clock: Callable[[], float] = time.time) -> None:
        self.dataverse = dataverse
        self.clock = clock

    @property
    def _api(self) -> str:
        return self.dataverse.api_url

    def _values(self, entity: str, params: Mapping[str, str], what: str) -> list[Mapping[str, Any]]:
        url = f"{self._api}/{entity}"
        body = self.dataverse.http.get_json(
            SERVICE, url, token=self.dataverse.token(), params=params, headers=HEADERS
        )
        return parse_rows(body, what, url)

    # -- reads --------------------------------------------------------------------------------------

    def business_units(self) -> list[BusinessUnit]:
        """Every business unit, root first (the one whose _parentbusinessunitid_value is null)."""
        rows = self._values(
            "businessunits",
            {"$select": "businessunitid,name,_parentbusinessunitid_value"},
            "the business units",
        )
        return sort_business_units([parse_business_unit(row) for row in rows])

    def roles(self, business_unit_id: str) -> list[SecurityRole]:
        """The roles of one business unit (Dataverse copies each role into every unit)."""
        unit = business_unit_id.strip().lower()
        if not _GUID.fullmatch(unit):  # never free text in a $filter
            raise _input_error(f"'{business_unit_id}' is not a business unit id", "invalid_business_unit")
        rows = self._values(
            "roles",
            {"$select": "roleid,name,_businessunitid_value", "$filter": f"_businessunitid_value eq {unit}"},
            "the security roles",
        )
        return sort_roles([parse_role(row) for row in rows])

    def find(self, application_id: str) -> ApplicationUser | None:
        """The app's active application user (deletedstate 0), or None."""
        return self.lookup(application_id).active

    def lookup(self, application_id: str) -> AppUserLookup:
        """Every systemuser with this applicationid: the active one, and the soft-deleted ones skipped."""
        app = validate_app_id(application_id)
        rows = self._values(
            "systemusers",
            {"$select": _USER_SELECT, "$filter": f"applicationid eq {app}", "$expand": _ROLES_EXPAND},
            "the system users",
        )
        try:
            return split_application_users(app, [parse_application_user(app, row) for row in rows])
        except MultipleApplicationUsers as error:
            raise _input_error(str(error), "multiple_app_users") from error

    # -- planning -------------------------------------------------------------------------------------

    def plan(self, application_id: str, business_unit: str = "", role: str = DEFAULT_ROLE) -> AppUserPlan:
        """What Create would do. `business_unit` is a name or id ("" = the root); `role` a name or id."""
        try:
            app = validate_app_id(application_id)
        except ValueError as error:
            raise _input_error(str(error), "invalid_app_id") from error
        units = self.business_units()
        chosen = self._unit(units, business_unit)
        found = self.lookup(app)
        existing = found.active
        if existing is not None and existing.business_unit_id != chosen.business_unit_id:
            # A user can take only its own unit's copy of a role; follow the user, not the form.
            chosen = next((u for u in units if u.business_unit_id == existing.business_unit_id), chosen)
        roles = self.roles(chosen.business_unit_id)
        picked = find_role(roles, role) or next((r for r in roles if r.role_id == role.strip().lower()), None)
        if picked is None:
            names = ", ".join(r.name for r in roles) or "none"
            raise _input_error(
                f"business unit {chosen.name} has no role '{role}'; its roles: {names}", "unknown_role"
            )
        return plan_app_user(app, chosen, picked, existing, found.soft_deleted)

    @staticmethod
    def _unit(units: list[BusinessUnit], wanted: str) -> BusinessUnit:
        if not wanted.strip():
            root = root_business_unit(units)
            if root is None:
                raise ServiceError(Fault(SERVICE, "Dataverse listed no root business unit", "malformed"))
            return root
        key = wanted.strip().lower()
        for unit in units:
            if key in (unit.name.lower(), unit.business_unit_id):
                return unit
        names = ", ".join(u.name + (" (root)" if u.is_root else "") for u in units)
        raise _input_error(f"no business unit '{wanted}'; known: {names}", "unknown_business_unit")

    # -- writes ---------------------------------------------------------------------------------------

    def apply(self, plan: AppUserPlan) -> AppUserResult:
        """Carry out `plan`: create the user if it is missing, then add the role if it is missing."""
        user = plan.existing
        created = False
        purged: tuple[str, ...] = ()
        if user is None:
            user, purged = self._create_purging(plan)
            created = True
            self._record(
                f"Created application user {user.systemuser_id} for {plan.application_id} "
                f"in {plan.business_unit.name}"
            )
        role_added = False
        if not user.has_role(plan.role):
            self._associate(user.systemuser_id, plan.role)
            role_added = True
            self._record(f"Gave application user {user.systemuser_id} the role {plan.role.name}")
        fresh = self.find(plan.application_id) or user
        return AppUserResult(fresh, plan.business_unit, plan.role, created, role_added, purged)

    def ensure(self, application_id: str, business_unit: str = "", role: str = DEFAULT_ROLE) -> AppUserResult:
        return self.apply(self.plan(application_id, business_unit, role))

    def _create_purging(self, plan: AppUserPlan) -> tuple[ApplicationUser, tuple[str, ...]]:
        """Create the user; if Dataverse refuses while soft-deleted users the plan named remain, delete
        those for good and create once more (TF's CreateScopedApplicationUser)."""
        try:
            return self._create(plan.application_id, plan.business_unit), ()
        except ServiceError as refused:
            if not plan.soft_deleted or refused.fault.http_status not in _REFUSED:
                raise
            # Only users the person saw in the plan, and only while they are still soft-deleted.
            shown = {user.systemuser_id for user in plan.soft_deleted}
            still = [u for u in self.lookup(plan.application_id).soft_deleted if u.systemuser_id in shown]
            if not still:
                raise
            for user in still:
                self._delete_permanently(user.systemuser_id)
                self._record(
                    f"Permanently deleted soft-deleted application user {user.systemuser_id} for "
                    f"{plan.application_id} (Dataverse refused a new one: {refused.fault.code})"
                )
            purged = tuple(user.systemuser_id for user in still)
            return self._create(plan.application_id, plan.business_unit), purged

    def _delete_permanently(self, systemuser_id: str) -> None:
        """DELETE systemusers(id) twice, 404 meaning gone, as TF's PermanentlyDeleteSystemUser does
        (api_application.go); a soft-deleted user goes at the first, and the second finds it gone."""
        url = f"{self._api}/systemusers({systemuser_id})"
        for _ in range(2):
            try:
                self.dataverse.http.request(
                    SERVICE, "DELETE", url, token=self.dataverse.token(), headers=HEADERS
                )
            except ServiceError as error:
                if error.fault.http_status != 404:
                    raise

    def _create(self, application_id: str, unit: BusinessUnit) -> ApplicationUser:
        url = f"{self._api}/systemusers"
        response = self.dataverse.http.request(
            SERVICE,
            "POST",
            url,
            token=self.dataverse.token(),
            json={
                "applicationid": application_id,
                "accessmode": ACCESS_MODE_NON_INTERACTIVE,
                "isdisabled": False,
                "businessunitid@odata.bind": f"/businessunits({unit.business_unit_id})",
            },
            headers={**HEADERS, "Content-Type": "application/json", "Prefer": "return=representation"},
        )
        body: Any = None
        if response.content.strip():
            try:
                body = response.json()
            except ValueError as error:
                raise malformed(SERVICE, "the created user was not valid JSON", url) from error
        user_id = parse_created_user_id(body, response.headers, url)
        return ApplicationUser(user_id, application_id, unit.business_unit_id)

    def _associate(self, systemuser_id: str, role: SecurityRole) -> None:
        url = f"{self._api}/systemusers({systemuser_id})/systemuserroles_association/$ref"
        self.dataverse.http.request(
            SERVICE,
            "POST",
            url,
            token=self.dataverse.token(),
            json={"@odata.id": f"{self._api}/roles({role.role_id})"},
            headers={**HEADERS, "Content-Type": "application/json"},
        )

    def _record(self, summary: str) -> None:
        self.dataverse.http.activity.record(
            ActivityEntry(at=self.clock(), kind="change", summary=summary, service=SERVICE)
        )


# -- what dwtui reads from Dataverse's answers (tests/contracts holds the documented shapes) --------


def parse_rows(body: Any, what: str, url: str = "") -> list[Mapping[str, Any]]:
    """The rows of a Web API query answer: {"@odata.context", "value": [...]}."""
    rows = expect_list(SERVICE, expect_dict(SERVICE, body, what, url).get("value"), f"{what} value", url)
    return [expect_dict(SERVICE, row, what, url) for row in rows]


def parse_business_unit(row: Mapping[str, Any]) -> BusinessUnit:
    """One `businessunits` row; the root is the one whose _parentbusinessunitid_value is null."""
    return BusinessUnit(
        business_unit_id=text(SERVICE, row.get("businessunitid"), "businessunitid").lower(),
        name=text(SERVICE, row.get("name"), "name"),
        parent_id=text(SERVICE, row.get("_parentbusinessunitid_value"), "parent").lower(),
    )


def parse_role(row: Mapping[str, Any]) -> SecurityRole:
    """One `roles` row, or one item of a user's expanded systemuserroles_association."""
    return SecurityRole(
        role_id=text(SERVICE, row.get("roleid"), "roleid").lower(),
        name=text(SERVICE, row.get("name"), "name"),
        business_unit_id=text(SERVICE, row.get("_businessunitid_value"), "role business unit").lower(),
    )


def parse_application_user(application_id: str, row: Mapping[str, Any]) -> ApplicationUser:
    """One `systemusers` row as TF's applicationUserDto selects it (with its roles expanded)."""
    roles = row.get("systemuserroles_association") or []
    state = row.get("deletedstate")
    return ApplicationUser(
        systemuser_id=text(SERVICE, row.get("systemuserid"), "systemuserid").lower(),
        application_id=application_id,
        business_unit_id=text(SERVICE, row.get("_businessunitid_value"), "business unit").lower(),
        full_name=text(SERVICE, row.get("fullname"), "fullname"),
        roles=tuple(
            parse_role(expect_dict(SERVICE, r, "a role")) for r in expect_list(SERVICE, roles, "roles")
        ),
        is_disabled=row.get("isdisabled") is True,
        # Selected, so a real org always sends it; an answer without it (an older proxy, a
        # hand-made fixture) is read as 0, "Not deleted", the state every user had before.
        deleted_state=state if isinstance(state, int) and not isinstance(state, bool) else NOT_DELETED,
    )


def parse_created_user_id(body: Any, headers: Mapping[str, str], url: str = "") -> str:
    """The new systemuserid: the body's with Prefer: return=representation honoured (201), else the
    id in the OData-EntityId header of a 204 (TF's CreateScopedApplicationUser reads that header)."""
    user_id = ""
    if isinstance(body, Mapping):
        user_id = text(SERVICE, body.get("systemuserid"), "systemuserid")
    if not user_id:
        match = _ENTITY_ID.search(headers.get("OData-EntityId") or "")
        user_id = match.group(1) if match else ""
    if not user_id:
        raise malformed(SERVICE, "Dataverse created the user but named no systemuserid", url)
    return user_id.lower()
