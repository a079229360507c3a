"""The one-box application user and the WhoAmI verification, against the simulator over TLS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from dwtui.domain.errors import explain
from dwtui.domain.onebox import STEP_APP_USER, STEP_ROLE, OneboxFacts
from dwtui.domain.profile import dataverse_scope
from dwtui.services.activity import ActivityLog
from dwtui.services.appuser import ApplicationUsers, parse_application_user
from dwtui.services.auth import Authenticator
from dwtui.services.dataverse import DataverseClient
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy
from dwtui.services.session import Session
from dwtui.services.verify import app_profile, has_app_secret, store_app_secret, verify_onebox
from dwtui.sim import ids
from dwtui.sim.dataverse import directory_for
from dwtui.sim.server import SimServer
from tests.helpers import bearer, make_session, sim_client

ORG = "contosodev"


def admin(sim: SimServer, activity: ActivityLog | None = None, kind: str = "user") -> ApplicationUsers:
    url = sim.dataverse_url(ORG)
    http = HttpPolicy(ca_bundle=str(sim.ca_file), activity=activity or ActivityLog(), sleep=lambda _s: None)
    return ApplicationUsers(DataverseClient(url, http, lambda: sim.mint_token(dataverse_scope(url), kind)))


def posts(sim: SimServer) -> list[str]:
    return [r["path"] for r in sim.requests() if r["method"] == "POST" and "/dataverse/" in r["path"]]


SimFactory = Callable[..., SimServer]


def test_business_units_and_roles(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-no-app-user")
    users = admin(sim)
    units = users.business_units()
    assert units[0].is_root and units[0].name == ORG and not units[1].is_root
    root_roles = users.roles(units[0].business_unit_id)
    child_roles = users.roles(units[1].business_unit_id)
    assert root_roles[0].name == "System Administrator"
    assert {r.name for r in root_roles} == {r.name for r in child_roles} >= {"Dual-write runtime user"}
    assert not {r.role_id for r in root_roles} & {r.role_id for r in child_roles}  # copied per unit


def test_a_new_application_user(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-no-app-user")
    activity = ActivityLog()
    users = admin(sim, activity)
    assert users.find(sim.onebox_client_id) is None
    plan = users.plan(sim.onebox_client_id.upper())
    assert plan.create_user and plan.add_role and plan.business_unit.is_root
    result = users.apply(plan)
    assert result.created and result.role_added
    assert result.user.application_id == sim.onebox_client_id
    assert [r.name for r in result.user.roles] == ["System Administrator"]
    assert len(posts(sim)) == 2  # the user, then the role association
    changes = [e.summary for e in activity.entries() if e.kind == "change"]
    assert len(changes) == 2 and "Created application user" in changes[0]

    sim.reset_log()
    again = users.ensure(sim.onebox_client_id)  # idempotent: shown, nothing written
    assert not again.created and not again.role_added and "nothing changed" in again.summary()
    assert posts(sim) == []


def test_an_existing_user_is_kept(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")  # contoso-dev's one-box app already has its application user
    users = admin(sim)
    existing = users.find(sim.onebox_client_id)
    assert existing is not None and existing.roles
    result = users.ensure(sim.onebox_client_id)
    assert not result.created and not result.role_added
    assert result.user.systemuser_id == existing.systemuser_id
    assert posts(sim) == []


def test_an_existing_user_without_the_role_gets_only_the_role(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    directory = directory_for(sim.world, sim.world.org_by_unique_name(ORG))  # type: ignore[arg-type]
    with sim.world.lock:
        user = directory.application_user(sim.onebox_client_id)
        assert user is not None
        user.role_ids.clear()
    users = admin(sim)
    plan = users.plan(sim.onebox_client_id, role="dual-write runtime user")
    assert not plan.create_user and plan.add_role
    result = users.apply(plan)
    assert not result.created and result.role_added
    assert [r.name for r in result.user.roles] == ["Dual-write runtime user"]
    assert len(posts(sim)) == 1 and posts(sim)[0].endswith("/systemuserroles_association/$ref")


def test_a_wrong_guid_makes_no_call(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-no-app-user")
    with pytest.raises(ServiceError) as raised:
        admin(sim).plan("3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1")
    assert raised.value.fault.code == "invalid_app_id" and "Keep typing" in raised.value.fault.message
    assert [r for r in sim.requests() if "/dataverse/" in r["path"]] == []


def test_an_unknown_role_or_business_unit(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-no-app-user")
    users = admin(sim)
    with pytest.raises(ServiceError) as raised:
        users.plan(sim.onebox_client_id, role="Chief Everything Officer")
    fault = raised.value.fault
    assert fault.code == "unknown_role" and "System Administrator" in fault.message
    with pytest.raises(ServiceError) as unit:
        users.plan(sim.onebox_client_id, business_unit="Nowhere")
    assert (
        unit.value.fault.code == "unknown_business_unit" and "contosodev (root)" in unit.value.fault.message
    )
    assert users.plan(sim.onebox_client_id, business_unit="sales").business_unit.name == "Sales"
    assert posts(sim) == []


def test_dataverse_errors_keep_their_code_and_posts_are_not_retried(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-no-app-user")
    users = admin(sim)
    plan = users.plan(sim.onebox_client_id)
    sim.add_fault("/dataverse/contosodev/api/data/v9.2/systemusers", "503", count=1, method="POST")
    with pytest.raises(ServiceError) as raised:
        users.apply(plan)
    assert raised.value.fault.code == "HTTP 503"
    assert len(posts(sim)) == 1  # a create may have happened: never sent twice

    gone = plan.business_unit.__class__("00000000-0000-4000-8000-000000000001", "gone")
    bad = plan.__class__(plan.application_id, gone, plan.role, None)
    with pytest.raises(ServiceError) as coded:
        users.apply(bad)
    assert coded.value.fault.code == "0x80040217" and coded.value.fault.http_status == 404

    # An app that is not a member of the org gets Dataverse's own 0x80072560 on any call.
    with sim.world.lock:
        directory_for(sim.world, sim.world.org_by_unique_name(ORG)).remove_application_user(  # type: ignore[arg-type]
            sim.confidential_client_id
        )
    with pytest.raises(ServiceError) as outsider:
        admin(sim, kind="app").business_units()
    assert outsider.value.fault.code == "0x80072560" and outsider.value.fault.http_status == 403


def test_verify_names_the_missing_step_then_passes(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-no-app-user")
    session = make_session(sim, environment="dev", sign_in=True)
    url = sim.dataverse_url(ORG)
    store_app_secret(session.secrets, session.profile, sim.onebox_client_id, sim.onebox_client_secret + "\n")
    assert has_app_secret(session.secrets, session.profile, sim.onebox_client_id)

    before = verify_onebox(session, url, sim.onebox_client_id)
    assert not before.verdict.ok and before.verdict.missing_step == STEP_APP_USER
    assert before.fault is not None and before.fault.code == "0x80072560"

    users = ApplicationUsers(session.dataverse(url))
    created = users.ensure(sim.onebox_client_id)
    directory = directory_for(sim.world, sim.world.org_by_unique_name(ORG))  # type: ignore[arg-type]
    with sim.world.lock:
        directory.users[created.user.systemuser_id].role_ids.clear()
    no_role = verify_onebox(session, url, sim.onebox_client_id)
    assert no_role.verdict.missing_step == STEP_ROLE

    users.ensure(sim.onebox_client_id)
    after = verify_onebox(
        session,
        url,
        sim.onebox_client_id,
        facts=OneboxFacts(flight_enabled=True, aos_restarted_after_flight=True),
    )
    assert after.verdict.ok and after.verdict.set_up and after.who_am_i is not None
    assert after.who_am_i.user_id == created.user.systemuser_id
    app_calls = [r for r in sim.requests() if r["path"].endswith("/WhoAmI")]
    assert {r["auth"] for r in app_calls} == {"app"}
    session.close()


def test_verify_with_a_wrong_secret_is_a_sign_in_problem(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    session = make_session(sim, environment="dev")
    store_app_secret(session.secrets, session.profile, sim.onebox_client_id, "not-the-secret")
    result = verify_onebox(session, sim.dataverse_url(ORG), sim.onebox_client_id)
    assert not result.verdict.ok and result.verdict.missing_step == ""
    assert result.fault is not None and result.fault.code == "invalid_client"
    session.close()


# -- soft-deleted users, users without a role, and what 0x80072560 means -------------------------


def dataverse_calls(sim: SimServer) -> list[tuple[str, str, int | None]]:
    return [
        (r["method"], r["path"].rsplit("/", 1)[-1], r["status"])
        for r in sim.requests()
        if "/dataverse/" in r["path"]
    ]


def test_the_lookup_reads_deletedstate_and_skips_soft_deleted_users(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-app-user-deleted")
    url = sim.dataverse_url(ORG)
    with sim_client(sim) as client:
        listed = client.get(
            f"{url.rstrip('/')}/api/data/v9.2/systemusers",
            params={"$filter": f"applicationid eq {sim.onebox_client_id}"},
            headers=bearer(sim.mint_token(dataverse_scope(url))),
        ).json()["value"]
    [row] = listed
    assert row["deletedstate"] == 1 and row["isdisabled"] is True  # the documented picklist value
    found = admin(sim).lookup(sim.onebox_client_id)
    assert found.active is None
    [gone] = found.soft_deleted
    assert gone.systemuser_id == row["systemuserid"] and gone.is_soft_deleted
    assert admin(sim).find(sim.onebox_client_id) is None
    lookups = [r for r in sim.requests() if r["path"].endswith("/systemusers") and r["method"] == "GET"]
    assert "deletedstate" in lookups[-1]["query"]


def test_a_row_without_deletedstate_counts_as_not_deleted() -> None:
    row = {
        "systemuserid": "66666666-6666-6666-6666-666666666666",
        "_businessunitid_value": "11111111-1111-1111-1111-111111111111",
        "fullname": "old answer",
        "systemuserroles_association": [],
    }
    user = parse_application_user(ids.ONEBOX_CLIENT_ID, row)
    assert user.deleted_state == 0 and not user.is_soft_deleted
    assert parse_application_user(ids.ONEBOX_CLIENT_ID, {**row, "deletedstate": 1}).is_soft_deleted


def test_create_purges_the_soft_deleted_user_only_after_dataverse_refuses(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-app-user-deleted")
    activity = ActivityLog()
    users = admin(sim, activity)
    plan = users.plan(sim.onebox_client_id)
    [gone] = plan.soft_deleted
    assert plan.create_user and plan.add_role
    assert gone.systemuser_id in plan.describe() and "deletes them permanently" in plan.describe()

    sim.reset_log()
    result = users.apply(plan)
    assert result.created and result.role_added and result.purged == (gone.systemuser_id,)
    assert result.user.systemuser_id != gone.systemuser_id
    assert [r.name for r in result.user.roles] == ["System Administrator"]
    assert "First deleted 1 soft-deleted application user(s) permanently" in result.summary()
    deleted = f"systemusers({gone.systemuser_id})"
    assert dataverse_calls(sim)[:6] == [
        ("POST", "systemusers", 412),  # Dataverse refuses while the soft-deleted user exists
        ("GET", "systemusers", 200),  # still soft-deleted? only then, and only the one shown
        ("DELETE", deleted, 204),
        ("DELETE", deleted, 404),  # TF's second DELETE: gone
        ("POST", "systemusers", 201),
        ("POST", "$ref", 204),
    ]
    changes = [e.summary for e in activity.entries() if e.kind == "change"]
    assert changes[0].startswith(f"Permanently deleted soft-deleted application user {gone.systemuser_id}")
    assert "Created application user" in changes[1] and "role System Administrator" in changes[2]
    assert users.lookup(sim.onebox_client_id).soft_deleted == ()


def test_nothing_is_purged_when_the_create_may_have_happened_or_no_deleted_user_was_shown(
    sim_factory: SimFactory,
) -> None:
    sim = sim_factory("onebox-app-user-deleted")
    users = admin(sim)
    plan = users.plan(sim.onebox_client_id)
    sim.add_fault("/dataverse/contosodev/api/data/v9.2/systemusers", "503", count=1, method="POST")
    with pytest.raises(ServiceError) as raised:
        users.apply(plan)
    assert raised.value.fault.code == "HTTP 503"
    assert not [c for c in dataverse_calls(sim) if c[0] == "DELETE"]

    # A plan that showed no soft-deleted user never deletes one, even when the create is refused.
    sim.reset_log()
    with pytest.raises(ServiceError) as refused:
        users.apply(replace(plan, soft_deleted=()))
    assert refused.value.fault.code == "0x80040237" and refused.value.fault.http_status == 412
    assert [c for c in dataverse_calls(sim) if c[0] != "GET"] == [("POST", "systemusers", 412)]


def test_two_active_users_for_one_app_are_a_clear_error(sim_factory: SimFactory) -> None:
    sim = sim_factory("happy")
    directory = directory_for(sim.world, sim.world.org_by_unique_name(ORG))  # type: ignore[arg-type]
    with sim.world.lock:
        first = directory.application_user(sim.onebox_client_id)
        assert first is not None
        second = replace(first, systemuser_id="99999999-9999-4999-8999-999999999999")
        directory.users[second.systemuser_id] = second
    with pytest.raises(ServiceError) as raised:
        admin(sim).plan(sim.onebox_client_id)
    fault = raised.value.fault
    assert fault.code == "multiple_app_users" and "2 active application users" in fault.message
    assert first.systemuser_id in fault.message and second.systemuser_id in fault.message
    assert posts(sim) == []


def onebox_app(session: Session, url: str, application_id: str) -> ApplicationUsers:
    """Dataverse as the one-box app itself (client credentials through MSAL)."""
    profile = app_profile(session.profile, application_id)
    auth = Authenticator(profile, session.http, session.secrets, activity=session.activity)
    return ApplicationUsers(DataverseClient(url, session.http, auth.token_getter(dataverse_scope(url))))


def test_an_app_user_without_a_role_passes_whoami_but_not_verify(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-app-user-no-role")
    session = make_session(sim, environment="dev", sign_in=True)
    url = sim.dataverse_url(ORG)
    store_app_secret(session.secrets, session.profile, sim.onebox_client_id, sim.onebox_client_secret)

    result = verify_onebox(session, url, sim.onebox_client_id)
    assert result.who_am_i is not None and result.fault is None  # WhoAmI answered
    assert not result.verdict.ok and not result.verdict.set_up
    assert result.verdict.missing_step == STEP_ROLE
    assert "has not been assigned any roles" in result.verdict.message
    assert result.lookup is not None and result.lookup.active is not None
    assert result.lookup.active.systemuser_id == result.who_am_i.user_id and result.lookup.active.roles == ()
    who, user = result.checks()
    assert who.startswith(f"WhoAmI as the app: user {result.who_am_i.user_id}")
    assert user.endswith("; roles: no role") and "your sign-in" in user
    # The roles were read with the administrator's token, WhoAmI with the app's.
    auth_of = {r["path"].rsplit("/", 1)[-1]: r["auth"] for r in sim.requests() if "/dataverse/" in r["path"]}
    assert auth_of["WhoAmI"] == "app" and auth_of["systemusers"] == "user"

    # What the app meets at its first privileged call [I: the code and status are inferred].
    with pytest.raises(ServiceError) as refused:
        onebox_app(session, url, sim.onebox_client_id).business_units()
    fault = refused.value.fault
    assert fault.http_status == 403 and fault.code == "0x80040220"
    assert fault.message == (
        f"RetrievePrivilegeForUser: The user with id {result.who_am_i.user_id} has not been assigned any "
        "roles. They need a role with the prvReadBusinessUnit privilege."
    )
    assert "no security role" in explain(fault).meaning and "coe-starter-kit" in explain(fault).doc

    # Create adds only the role; then Verify passes and the app's privileged calls work.
    fixed = ApplicationUsers(session.dataverse(url)).ensure(sim.onebox_client_id)
    assert not fixed.created and fixed.role_added
    after = verify_onebox(session, url, sim.onebox_client_id)
    assert after.verdict.ok and after.verdict.set_up and after.verdict.missing_step == ""
    assert "roles: System Administrator" in after.checks()[1]
    assert onebox_app(session, url, sim.onebox_client_id).business_units()
    session.close()


def test_not_a_member_is_no_application_user(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-no-app-user")
    session = make_session(sim, environment="dev", sign_in=True)
    url = sim.dataverse_url(ORG)
    store_app_secret(session.secrets, session.profile, sim.onebox_client_id, sim.onebox_client_secret)
    result = verify_onebox(session, url, sim.onebox_client_id)
    fault = result.fault
    assert fault is not None and fault.code == "0x80072560" and fault.http_status == 403
    assert fault.message == "The user is not a member of the organization."
    assert "no application user" in explain(fault).meaning and "role" not in explain(fault).meaning
    assert result.verdict.missing_step == STEP_APP_USER and not result.verdict.ok
    assert "The user is not a member of the organization" in result.verdict.message
    assert result.checks() == [
        "WhoAmI as the app: 0x80072560 The user is not a member of the organization.",
        "Application user, read with your sign-in: none active",
    ]
    session.close()


def test_only_a_soft_deleted_user_is_no_application_user(sim_factory: SimFactory) -> None:
    sim = sim_factory("onebox-app-user-deleted")
    session = make_session(sim, environment="dev", sign_in=True)
    url = sim.dataverse_url(ORG)
    store_app_secret(session.secrets, session.profile, sim.onebox_client_id, sim.onebox_client_secret)
    result = verify_onebox(session, url, sim.onebox_client_id)
    assert result.fault is not None and result.fault.code == "0x80072560"
    assert result.verdict.missing_step == STEP_APP_USER
    assert "only 1 soft-deleted one(s), which do not count" in result.verdict.message
    assert result.checks()[1].endswith("none active; 1 soft-deleted one(s) skipped")

    ApplicationUsers(session.dataverse(url)).ensure(sim.onebox_client_id)  # purges, then creates
    assert verify_onebox(session, url, sim.onebox_client_id).verdict.ok
    session.close()
