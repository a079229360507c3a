"""Pure one-box rules: the flight's SQL, app id validation while typing, AOS commands, the verdict."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dwtui.domain import aos
from dwtui.domain.appuser import (
    ApplicationUser,
    AppUserPlan,
    BusinessUnit,
    SecurityRole,
    check_app_id,
    plan_app_user,
    root_business_unit,
    sort_business_units,
    sort_roles,
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
    aos_step = verdict("", OneboxFacts(flight_enabled=True, aos_restarted_after_flight=False))
    assert aos_step.missing_step == STEP_AOS and aos_step.ok and not aos_step.set_up
    done = verdict("", OneboxFacts(flight_enabled=True, aos_restarted_after_flight=True))
    assert done.ok and done.set_up and done.missing_step == ""
    unknown = verdict("", OneboxFacts())
    assert unknown.set_up and "cannot see the flight or the AOS restart" in unknown.message
    assert not verdict("invalid_client", OneboxFacts()).ok
