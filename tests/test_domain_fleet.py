"""The fleet's rows as rules: facts from a snapshot, their ages, filtering by a few letters, a stable sort."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dwtui.domain.assessment import assess
from dwtui.domain.fleet import (
    NOT_CHECKED,
    Column,
    Fact,
    FleetRow,
    failed_row,
    listed_row,
    read_row,
)
from dwtui.domain.fleet_table import READING_MARK, age_words, cell, filter_rows, matches, sort_rows
from dwtui.domain.models import (
    DualWriteLink,
    Fault,
    LcsEnvironment,
    LinkRequest,
    PackageState,
    PowerPlatformSnapshot,
)
from dwtui.domain.operations import OperationKind, OperationRecord, OperationStatus
from tests.test_domain_assessment import DATAVERSE, UAT, linked_to, package, snapshot

NOW = 1_800_000_000.0
LISTED = NOW - 300.0  # LCS listed the environment five minutes ago
READ = NOW - 20.0  # the Power Platform facts were read twenty seconds ago


def env(
    name: str, kind: str = "Sandbox", state: str = "Deployed", release: str = "10.0.41"
) -> LcsEnvironment:
    return replace(
        UAT,
        environment_id=name.encode().hex()[:32].ljust(32, "0"),
        name=name,
        environment_type=kind,
        deployment_status=state,
        application_release=release,
    )


def row_of(environment: LcsEnvironment, parts: PowerPlatformSnapshot, **kw: object) -> FleetRow:
    shot = replace(parts, read_at=READ)
    assessment = assess(environment, shot, read_only=False)
    return read_row(listed_row(environment, LISTED), shot, assessment, now=NOW, **kw)  # type: ignore[arg-type]


# -- facts from a snapshot ---------------------------------------------------------------------------


def test_a_listed_row_is_reading_everything_but_lcs() -> None:
    row = listed_row(env("contoso-uat"), LISTED)
    assert not row.complete
    assert row.fact(Column.NAME) == Fact("contoso-uat", LISTED)
    assert row.integration.reading and row.link.reading
    assert cell(row, Column.LINK, NOW) == READING_MARK
    assert row.doctor == NOT_CHECKED  # until its read is judged
    assert cell(row, Column.DOCTOR, NOW) == "n/c"
    assert cell(row, Column.AGE, NOW) == "5m"  # only LCS has answered


def test_an_integrated_environment_without_the_application() -> None:
    row = row_of(UAT, snapshot())
    assert row.complete and not row.from_cache
    assert (row.integration.value, row.dataverse.value) == ("set up", "present")
    assert row.packages.value == "not installed"
    assert row.packages.detail == "1 of 2 dual-write packages installed"
    assert row.packages.number == 1.0
    assert (row.link.value, row.mismatch.value, row.operation.value) == ("not linked", "no", "none")
    assert [cell(row, c, NOW) for c in (Column.INTEGRATION, Column.PACKAGES, Column.MISMATCH)] == [
        "yes",
        "1/2",
        "-",
    ]
    # Each fact keeps its own source's time: LCS five minutes ago, the rest twenty seconds ago.
    assert row.fact(Column.NAME).age(NOW) == 300.0 and row.link.age(NOW) == 20.0
    assert row.oldest_read_at == LISTED and cell(row, Column.AGE, NOW) == "5m"


def test_a_mismatch_says_which_dataverse_each_side_names() -> None:
    parts = snapshot(
        packages=package(PackageState.INSTALLED), link=linked_to("https://contoso-uat-old.crm.dynamics.com/")
    )
    row = row_of(UAT, parts)
    assert row.link.value == "linked"
    assert row.mismatch.value == "yes"
    assert "contoso-uat-old" in row.mismatch.detail and DATAVERSE.instance_url in row.mismatch.detail
    assert cell(row, Column.MISMATCH, NOW) == "!!"


def test_a_failed_and_an_installing_package_are_marked() -> None:
    failed = replace(package(PackageState.INSTALL_FAILED)[2], error="SolutionImportFailed: the import failed")
    row = row_of(UAT, snapshot(packages=(*package(PackageState.INSTALLED)[:2], failed)))
    assert row.packages.value == "failed" and cell(row, Column.PACKAGES, NOW) == "1/2!"
    installing = row_of(UAT, snapshot(packages=package(PackageState.INSTALLING)))
    assert installing.packages.value == "installing" and cell(installing, Column.PACKAGES, NOW) == "1/2*"
    # [I] Only the list's Installing says an install runs when no dwtui follows it.
    assert installing.operation.value == "install" and cell(installing, Column.OPERATION, NOW) == "inst"


def test_without_dataverse_and_without_integration() -> None:
    no_dataverse = replace(DATAVERSE, instance_url="")
    row = row_of(UAT, snapshot(dataverse=no_dataverse, integration=None, packages=None))
    assert row.integration.value == "Power Platform environment without Dataverse"
    assert (row.dataverse.value, row.packages.value) == ("none", "none")
    assert [cell(row, c, NOW) for c in (Column.INTEGRATION, Column.DATAVERSE, Column.PACKAGES)] == [
        "noDV",
        "none",
        "-",
    ]
    adding = row_of(
        UAT,
        snapshot(
            dataverse=replace(no_dataverse, provisioning_state="LinkedDatabaseProvisioning"),
            integration=None,
            packages=None,
        ),
    )
    assert adding.dataverse.value == "being added" and adding.operation.value == "add Dataverse"
    alone = row_of(UAT, snapshot(dataverse=None, integration=None, packages=None))
    assert (alone.integration.value, alone.dataverse.value) == ("not set up", "none")


def test_a_source_that_failed_keeps_its_fault_and_shows_a_question_mark() -> None:
    fault = Fault("Power Platform API", "HTTP 503 Service Unavailable", "HTTP 503", 503)
    row = row_of(UAT, snapshot(packages=fault))
    assert row.packages.value == "unknown" and row.packages.fault == fault
    assert cell(row, Column.PACKAGES, NOW) == "?"
    assert row.faults == (fault,)
    assert row.complete  # answered, with a fault: nothing is still being read
    gateway = Fault("dual-write gateway", "the gateway host is not known", "not_configured")
    unknown_link = row_of(UAT, snapshot(link=gateway))
    assert (unknown_link.link.value, unknown_link.mismatch.value) == ("unknown", "unknown")
    assert unknown_link.link.fault == gateway


def test_a_row_whose_reads_all_failed() -> None:
    fault = Fault("sign-in", "sign-in expired; sign in again", "sign_in_required")
    row = failed_row(listed_row(UAT, LISTED), fault)
    assert row.complete and row.faults == (fault,)
    assert {cell(row, c, NOW) for c in (Column.INTEGRATION, Column.LINK, Column.OPERATION)} == {"?"}


def _record(kind: OperationKind, **fields: object) -> OperationRecord:
    base = OperationRecord(
        kind=kind,
        profile="p",
        lcs_environment_id=UAT.environment_id,
        bap_environment_id="e1",
        package="msdyn_DualWriteAppCoreAnchor",
        started_at=NOW - 600.0,
        operation_id="op-1",
        status=OperationStatus.RUNNING,
        message="Importing solutions",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_an_operation_dwtui_follows_shows_its_percent_and_the_age_of_its_last_poll() -> None:
    record = _record(OperationKind.INSTALL, percent=45.0, last_polled_at=NOW - 90.0)
    row = row_of(UAT, snapshot(), running=[record])
    assert row.operation.value == "install" and row.operation.number == 45.0
    assert row.operation.detail.startswith("Running: Importing solutions; 45%")
    assert row.operation.age(NOW) == 90.0
    assert cell(row, Column.OPERATION, NOW) == "inst 45%"
    link = _record(OperationKind.LINK, started_at=NOW - 60.0)
    estimated = row_of(UAT, snapshot(), running=[link])
    assert estimated.operation.value == "link" and estimated.operation.number is None
    # From the typical duration (lcs-setup.md: under 5 minutes), in the detail only.
    assert estimated.operation.detail == "Running: Importing solutions; about 4 min 00 s left (estimate)"
    assert cell(estimated, Column.OPERATION, NOW) == "link"
    finished = _record(OperationKind.INSTALL, finished_at=NOW - 5.0)
    assert row_of(UAT, snapshot(), running=[finished]).operation.value == "none"


def test_a_link_request_the_gateway_lists_is_a_running_link() -> None:
    request = LinkRequest("r1", "1", "Connecting to Dataverse (CRM)", created_on="2027-01-15T08:00:00Z")
    parts = snapshot(
        packages=package(PackageState.INSTALLED),
        link=DualWriteLink(linked=False, linking=True, request=request),
    )
    row = row_of(UAT, parts)
    assert row.link.value == "linking"
    assert row.operation.value == "link" and "Connecting to Dataverse" in row.operation.detail


def test_the_doctor_hook_fills_its_column() -> None:
    finding = Fact("problem", READ, "Power Platform admin rights missing")
    row = row_of(UAT, snapshot(), doctor=finding)
    assert row.doctor == finding and cell(row, Column.DOCTOR, NOW) == "!!"


# -- ages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.0, "0s"),
        (59.9, "59s"),
        (60.0, "1m"),
        (3599.0, "59m"),
        (3600.0, "1h"),
        (86399.0, "23h"),
        (86400.0, "1d"),
        (99 * 86400.0, "99d"),
        (400 * 86400.0, "99d"),
        (None, ""),
    ],
)
def test_age_words(seconds: float | None, words: str) -> None:
    assert age_words(seconds) == words


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_an_age_is_at_most_three_characters(seconds: float) -> None:
    assert 2 <= len(age_words(seconds)) <= 3


def test_a_fact_read_in_the_future_is_zero_seconds_old() -> None:
    assert Fact("x", NOW + 5.0).age(NOW) == 0.0
    assert Fact("x").age(NOW) is None


# -- filtering --------------------------------------------------------------------------------------

ROWS = [
    listed_row(env("contoso-uat", release="10.0.41"), LISTED),
    listed_row(env("Contoso-PROD", "Production", release="10.0.9"), LISTED),
    listed_row(env("fabrikam-dev", "DevTestDev", "Servicing", release="10.0.10"), LISTED - 100),
    listed_row(env("fabrikam-uat", state="Failed", release="10.0.41"), LISTED),
]


def names(rows: list[FleetRow]) -> list[str]:
    return [row.environment.name for row in rows]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", ["contoso-uat", "Contoso-PROD", "fabrikam-dev", "fabrikam-uat"]),
        ("uat", ["contoso-uat", "fabrikam-uat"]),
        ("CONTOSO", ["contoso-uat", "Contoso-PROD"]),
        ("prod", ["Contoso-PROD"]),  # the name, and the type Production
        ("sandbox", ["contoso-uat", "fabrikam-uat"]),  # the type
        ("servic", ["fabrikam-dev"]),  # the state
        ("fab  fail", ["fabrikam-uat"]),  # every word must match
        ("linked", []),  # other columns are not searched
    ],
)
def test_typing_a_few_letters_matches_name_type_or_state(typed: str, expected: list[str]) -> None:
    assert names(filter_rows(ROWS, typed)) == expected


def test_filtering_keeps_the_order() -> None:
    assert all(matches(row, "") for row in ROWS)
    assert names(filter_rows(reversed(ROWS), "e")) == list(reversed(names(ROWS)))


# -- sorting ---------------------------------------------------------------------------------------


def test_sort_by_name_ignores_case_and_reverses() -> None:
    assert names(sort_rows(ROWS, Column.NAME)) == [
        "Contoso-PROD",
        "contoso-uat",
        "fabrikam-dev",
        "fabrikam-uat",
    ]
    assert names(sort_rows(ROWS, Column.NAME, descending=True)) == [
        "fabrikam-uat",
        "fabrikam-dev",
        "contoso-uat",
        "Contoso-PROD",
    ]


def test_versions_sort_as_numbers() -> None:
    assert [r.environment.application_release for r in sort_rows(ROWS, Column.VERSION)] == [
        "10.0.9",
        "10.0.10",
        "10.0.41",
        "10.0.41",
    ]


def test_sorting_is_stable_both_ways() -> None:
    """Equal rows keep their order, ascending and descending: contoso-uat stays before fabrikam-uat."""
    assert names(sort_rows(ROWS, Column.VERSION))[2:] == ["contoso-uat", "fabrikam-uat"]
    assert names(sort_rows(ROWS, Column.VERSION, descending=True))[:2] == ["contoso-uat", "fabrikam-uat"]
    assert names(sort_rows(ROWS, Column.STATE)) == [
        "contoso-uat",
        "Contoso-PROD",
        "fabrikam-uat",
        "fabrikam-dev",
    ]


def test_types_sort_production_first() -> None:
    assert names(sort_rows(ROWS, Column.TYPE))[:2] == ["Contoso-PROD", "contoso-uat"]


def test_rows_still_reading_go_last_either_way() -> None:
    done = row_of(env("zeta"), snapshot())
    installed = package(PackageState.INSTALLED)
    linked = row_of(env("alpha"), snapshot(packages=installed, link=linked_to(DATAVERSE.instance_url)))
    reading = listed_row(env("beta"), LISTED)
    for descending in (False, True):
        ordered = names(sort_rows([reading, done, linked], Column.LINK, descending=descending))
        assert ordered[-1] == "beta"
    assert names(sort_rows([reading, done, linked], Column.LINK)) == ["alpha", "zeta", "beta"]


def test_packages_sort_by_how_many_are_installed_and_age_by_the_oldest_fact() -> None:
    few = row_of(env("few"), snapshot())
    many = row_of(env("many"), snapshot(packages=package(PackageState.INSTALLED)))
    assert names(sort_rows([many, few], Column.PACKAGES)) == ["few", "many"]
    fresh = replace(listed_row(env("fresh"), NOW - 1.0))
    assert names(sort_rows([few, fresh], Column.AGE, now=NOW)) == ["fresh", "few"]


@given(st.lists(st.sampled_from(ROWS), max_size=12), st.sampled_from(list(Column)), st.booleans())
def test_a_sort_keeps_every_row(rows: list[FleetRow], column: Column, descending: bool) -> None:
    ordered = sort_rows(rows, column, descending=descending, now=NOW)
    assert sorted(map(id, ordered)) == sorted(map(id, rows))


def test_every_column_has_a_cell_for_every_kind_of_row() -> None:
    rows = [*ROWS, row_of(UAT, snapshot()), failed_row(ROWS[0], Fault("LCS API", "x"))]
    for row in rows:
        for column in Column:
            assert isinstance(cell(row, column, NOW), str)
