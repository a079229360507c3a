"""Pure one-box rules: the flight's SQL, app id validation while typing, AOS commands, the verdict."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dwtui.domain import aos
from dwtui.domain.appuser import (
    DEFAULT_ROLE,
    SOFT_DELETED,
    ApplicationUser,
    AppUserPlan,
    BusinessUnit,
    MultipleApplicationUsers,
    SecurityRole,
    check_app_id,
    plan_app_user,
    root_business_unit,
    sort_business_units,
    sort_roles,
    split_application_users,
)
from dwtui.domain.flight import (
    DEFAULT_FLIGHT_NAME,
    DEFAULT_FLIGHT_SERVICE_ID,
    FlightInputError,
    FlightPlan,
    FlightRow,
    Partition,
    check_enabled,
    documented_script,
    validate_flight_name,
    validate_service_id,
)
from dwtui.domain.onebox import STEP_AOS, STEP_APP_USER, STEP_FLIGHT, STEP_ROLE, OneboxFacts, verdict

flight_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,99}", fullmatch=True)
service_ids = st.integers(min_value=1, max_value=2**31 - 1)
DEFAULT_SQL = [s.sql for s in FlightPlan().statements()]


# -- the flight ------------------------------------------------------------------------------------


@given(flight_names, service_ids)
def test_no_flight_name_or_service_id_reaches_the_sql_text(name: str, service_id: int) -> None:
    plan = FlightPlan.from_input(name, str(service_id))
    statements = plan.statements()
    # The SQL text is the same whatever the input: values can only travel as parameters.
    assert [s.sql for s in statements] == DEFAULT_SQL
    for statement in statements:
        assert statement.sql.count("?") == len(statement.params)
        assert all(p in (name, service_id) for p in statement.params)
    assert {p for s in statements for p in s.params} == {name, service_id}


@given(st.text(max_size=120))
def test_flight_names_are_validated(text: str) -> None:
    try:
        name = validate_flight_name(text)
    except FlightInputError as error:
        assert error.field_name == "flight_name"
        return
    assert name == text.strip()
    assert "'" not in name and ";" not in name and "-" not in name and " " not in name


@pytest.mark.parametrize("bad", ["", "0", "-5", "2147483648", "12.5", "1e3", "١٢", " ", "x"])
def test_bad_service_ids_are_refused(bad: str) -> None:
    with pytest.raises(FlightInputError) as raised:
        validate_service_id(bad)
    assert raised.value.field_name == "service_id"


def test_documented_script_carries_the_values() -> None:
    script = documented_script()
    assert f"DECLARE @flightName NVARCHAR(100) = '{DEFAULT_FLIGHT_NAME}';" in script
    assert f"SELECT @flightName, 1, {DEFAULT_FLIGHT_SERVICE_ID}, RECID FROM DBO.[PARTITIONS];" in script
    assert f"UPDATE SysFlighting SET enabled = 1, flightServiceId = {DEFAULT_FLIGHT_SERVICE_ID}" in script
    assert "INSERT INTO SYSFLIGHTING(FLIGHTNAME, ENABLED, FLIGHTSERVICEID, PARTITION)" in script
    custom = documented_script("OtherFlight", 42)
    assert "'OtherFlight'" in custom and ", 1, 42, RECID" in custom
    with pytest.raises(FlightInputError):
        documented_script("x'; DROP TABLE SYSFLIGHTING; --", 1)


def test_the_preview_lists_statements_with_parameters() -> None:
    text = FlightPlan("MyFlight", 7).describe()
    assert "parameters: 'MyFlight'" in text and "parameters: 7, 'MyFlight', 7" in text
    assert "rolled back" in text


def test_check_wants_every_partition_enabled_with_the_service_id() -> None:
    parts = [Partition(1, "initial"), Partition(2, "other")]
    good = [FlightRow(1, 1, 9), FlightRow(2, 1, 9)]
    assert check_enabled(parts, good, 9).ok
    assert not check_enabled(parts, good[:1], 9).ok
    assert not check_enabled(parts, [FlightRow(1, 1, 9), FlightRow(2, 0, 9)], 9).ok
    assert not check_enabled(parts, [FlightRow(1, 1, 9), FlightRow(2, 1, 8)], 9).ok
    empty = check_enabled([], [], 9)
    assert not empty.ok and "PARTITIONS" in empty.problems[0]


# -- the app id, typed ----------------------------------------------------------------------------


@given(st.uuids())
def test_every_beginning_of_a_guid_is_incomplete_never_wrong(value: uuid.UUID) -> None:
    text = str(value).upper()
    for end in range(36):
        check = check_app_id(text[:end])
        assert not check.ok and check.incomplete, (text[:end], check.message)
    whole = check_app_id(f"  {{{text}}} ")
    assert whole.ok and whole.value == str(value)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("12345g", "'g' at position 6"),
        ("1234-", "hyphen at position 5"),
        ("123456789", "Position 9 should be a hyphen"),
        ("3c5e7a9b-1d2f-4e6a-8b0c-2d4f6a8c0e1bff", "Too long"),
    ],
)
def test_a_wrong_character_is_named(typed: str, words: str) -> None:
    check = check_app_id(typed)
    assert not check.ok and not check.incomplete
    assert words in check.message


def test_the_plan_follows_what_exists() -> None:
    root = BusinessUnit("11111111-1111-1111-1111-111111111111", "org")
    child = BusinessUnit("22222222-2222-2222-2222-222222222222", "Sales", root.business_unit_id)
    assert root_business_unit([child, root]) == root
    assert sort_business_units([child, root])[0] == root
    admin = SecurityRole(
        "33333333-3333-3333-3333-333333333333", "System Administrator", root.business_unit_id
    )
    basic = SecurityRole("44444444-4444-4444-4444-444444444444", "Basic User", root.business_unit_id)
    assert sort_roles([basic, admin])[0] == admin
    app = "55555555-5555-5555-5555-555555555555"
    new: AppUserPlan = plan_app_user(app, root, admin, None)
    assert new.create_user and new.add_role
    bare = ApplicationUser("66666666-6666-6666-6666-666666666666", app, root.business_unit_id)
    assert not plan_app_user(app, root, admin, bare).create_user
    assert plan_app_user(app, root, admin, bare).add_role
    done = plan_app_user(
        app, root, admin, ApplicationUser(bare.systemuser_id, app, root.business_unit_id, roles=(admin,))
    )
    assert done.nothing_to_do
    with pytest.raises(ValueError, match="another business unit"):
        plan_app_user(app, child, admin, None)


# -- AOS commands -----------------------------------------------------------------------------------


def test_the_restart_is_what_restart_d365environment_aos_does() -> None:
    assert aos.stop_script().endswith("Stop-Service -Name w3svc,DynamicsAxBatch -Force")
    start = aos.start_script()
    assert "Start-Service -Name w3svc,DynamicsAxBatch" in start
    assert start.endswith("Import-Module WebAdministration; Start-Website -Name AOSService")
    argv = aos.command(aos.stop_script())
    assert argv[0] == "powershell.exe" and "-NoProfile" in argv and "-NonInteractive" in argv
    assert argv[-2] == "-Command" and argv[-1] == aos.stop_script()  # one argument, no shell parsing
    assert "IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)" in aos.ELEVATION_CHECK
    assert aos.restart_script() == (
        "Stop-Service -Name w3svc,DynamicsAxBatch -Force; Start-Service -Name w3svc,DynamicsAxBatch; "
        "Import-Module WebAdministration; Start-Website -Name AOSService"
    )


def test_powershell_answers_are_parsed() -> None:
    assert aos.parse_elevated("True\r\n") is True
    assert aos.parse_elevated("False") is False
    assert aos.parse_elevated("") is None and aos.parse_elevated("Access denied") is None
    statuses = aos.parse_status("W3SVC=Running\r\nDynamicsAxBatch=Stopped\r\n")
    assert statuses == {"w3svc": "Running", "dynamicsaxbatch": "Stopped"}
    assert aos.not_running(statuses) == ["DynamicsAxBatch"]
    assert aos.not_running({}) == ["w3svc", "DynamicsAxBatch"]


# -- the verdict ------------------------------------------------------------------------------------


def test_the_verdict_names_the_missing_step() -> None:
    assert verdict("0x80072560", OneboxFacts(app_user_exists=False)).missing_step == STEP_APP_USER
    no_role = verdict("0x80072560", OneboxFacts(app_user_exists=True, app_user_has_role=False))
    assert no_role.missing_step == STEP_ROLE and not no_role.ok
    assert verdict("0x80072560", OneboxFacts()).missing_step == STEP_APP_USER
    assert verdict("", OneboxFacts(flight_enabled=False)).missing_step == STEP_FLIGHT
    # WhoAmI answering is not enough for "Dataverse accepts the app": its user must have a role too.
    role = {"app_user_exists": True, "app_user_has_role": True}
    aos_step = verdict("", OneboxFacts(flight_enabled=True, aos_restarted_after_flight=False, **role))
    assert aos_step.missing_step == STEP_AOS and aos_step.ok and not aos_step.set_up
    done = verdict("", OneboxFacts(flight_enabled=True, aos_restarted_after_flight=True, **role))
    assert done.ok and done.set_up and done.missing_step == ""
    unknown = verdict("", OneboxFacts(**role))
    assert unknown.set_up and "cannot see the flight or the AOS restart" in unknown.message
    assert not verdict("invalid_client", OneboxFacts()).ok


def test_whoami_answering_for_a_user_without_a_role_is_not_set_up() -> None:
    no_role = verdict("", OneboxFacts(app_user_exists=True, app_user_has_role=False, app_user_enabled=True))
    assert not no_role.ok and not no_role.set_up and no_role.missing_step == STEP_ROLE
    assert "WhoAmI answers" in no_role.message and "has not been assigned any roles" in no_role.message
    assert "0x80072560" not in no_role.message
    # Roles that could not be read: nothing is claimed, the step is not named, the check is not passed.
    unread = verdict("", OneboxFacts())
    assert not unread.ok and not unread.set_up and unread.missing_step == ""
    assert "could not read its application user's roles" in unread.message
    disabled = verdict("", OneboxFacts(app_user_exists=True, app_user_has_role=True, app_user_enabled=False))
    assert disabled.missing_step == STEP_APP_USER and "disabled" in disabled.message
    # WhoAmI answers but the admin finds no active user: not a pass, and no step it cannot name.
    odd = verdict("", OneboxFacts(app_user_exists=False, app_user_has_role=False))
    assert not odd.ok and odd.missing_step == ""


def test_not_a_member_means_no_application_user() -> None:
    none = verdict("0x80072560", OneboxFacts(app_user_exists=False, app_user_has_role=False))
    assert none.missing_step == STEP_APP_USER and not none.ok
    assert "The user is not a member of the organization" in none.message
    assert "no application user" in none.message and "role" not in none.message.split("Create")[0]
    deleted = verdict(
        "0x80072560", OneboxFacts(app_user_exists=False, app_user_has_role=False, soft_deleted_users=1)
    )
    assert "only 1 soft-deleted one(s), which do not count" in deleted.message
    unread = verdict("0x80072560", OneboxFacts())
    assert unread.missing_step == STEP_APP_USER and "could not read" in unread.message
    # The admin sees a user with a role, yet Dataverse says not a member: no step to name.
    lag = verdict("0x80072560", OneboxFacts(app_user_exists=True, app_user_has_role=True))
    assert not lag.ok and lag.missing_step == "" and "few minutes" in lag.message


def test_soft_deleted_users_are_skipped_and_two_active_ones_are_an_error() -> None:
    app = "55555555-5555-5555-5555-555555555555"
    unit = "11111111-1111-1111-1111-111111111111"
    active = ApplicationUser("66666666-6666-6666-6666-666666666666", app, unit)
    gone = ApplicationUser("77777777-7777-7777-7777-777777777777", app, unit, deleted_state=SOFT_DELETED)
    found = split_application_users(app, [gone, active])
    assert found.active == active and found.soft_deleted == (gone,)
    only_gone = split_application_users(app, [gone])
    assert only_gone.active is None and only_gone.soft_deleted == (gone,)
    with pytest.raises(MultipleApplicationUsers, match="2 active application users"):
        split_application_users(app, [active, replace(active, systemuser_id=gone.systemuser_id)])


def test_the_plan_says_what_happens_to_soft_deleted_users() -> None:
    root = BusinessUnit("11111111-1111-1111-1111-111111111111", "org")
    admin = SecurityRole("33333333-3333-3333-3333-333333333333", DEFAULT_ROLE, root.business_unit_id)
    app = "55555555-5555-5555-5555-555555555555"
    gone = ApplicationUser(
        "77777777-7777-7777-7777-777777777777", app, root.business_unit_id, deleted_state=SOFT_DELETED
    )
    plan = plan_app_user(app, root, admin, None, [gone])
    assert plan.create_user and gone.systemuser_id in plan.describe()
    assert "deletes them permanently" in plan.describe()
    assert plan_app_user(app, root, admin, None).purge_note() == ""
