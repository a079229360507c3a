"""The fleet's doctor column: the doctor's own judgements applied to the facts the fleet read."""

from __future__ import annotations

from dataclasses import replace

from dwtui.domain.assessment import assess
from dwtui.domain.doctor import CheckResult, CheckState
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.fleet import CHECKS, FleetDoctorContext, findings, judge
from dwtui.domain.fleet import Column, listed_row, read_row
from dwtui.domain.fleet_table import cell
from dwtui.domain.models import DualWriteLink, Fault, PackageState, PowerPlatformSnapshot
from tests.test_domain_assessment import DATAVERSE, DETAILS, UAT, linked_to, package, snapshot

TENANT = "11111111-2222-3333-4444-555555555555"
READ = 1_800_000_000.0
DEPLOYED = replace(
    UAT, deployment_status="Deployed", deployment_state="Finished", application_release="10.0.41"
)
CONTEXT = FleetDoctorContext(
    signed_in_tenant=TENANT, gateway_url="https://gateway.example", gateway_is_simulator=True
)


def healthy(**parts: object) -> PowerPlatformSnapshot:
    base: dict[str, object] = {
        "dataverse": replace(DATAVERSE, instance_state="Ready", version="9.2.25013.00190"),
        "integration": replace(DETAILS, tenant_id=TENANT),
        "packages": package(PackageState.INSTALLED),
        "read_at": READ,
    }
    return snapshot(**{**base, **parts})


def states(found: tuple[CheckResult, ...]) -> dict[str, CheckState]:
    return {result.check_id: result.state for result in found}


def test_only_the_checks_that_need_no_read_of_their_own() -> None:
    assert CHECKS == (
        c.RIGHTS_LCS,
        c.RIGHTS_POWER_PLATFORM,
        c.ENVIRONMENT_STATE,
        c.ENVIRONMENT_TYPE,
        c.ENVIRONMENT_VERSION,
        c.INTEGRATION_SETUP,
        c.INTEGRATION_DATAVERSE,
        c.INTEGRATION_TENANT,
        c.DUALWRITE_PACKAGES,
        c.DUALWRITE_GATEWAY,
        c.DUALWRITE_LINK,
        c.DUALWRITE_MISMATCH,
    )


def test_a_healthy_environment_is_ok_and_says_what_was_not_checked() -> None:
    fact = judge(DEPLOYED, healthy(), CONTEXT)
    assert fact.value == "ok" and fact.read_at == READ
    # Not linked yet: the mismatch check does not apply.
    assert fact.detail.startswith("11 of the doctor's checks that need no extra read pass, 1 does not apply;")
    assert "dwtui doctor" in fact.detail


def test_a_failed_package_is_the_doctors_problem_with_its_remedy() -> None:
    packages = package(PackageState.INSTALL_FAILED)
    fact = judge(DEPLOYED, healthy(packages=packages), CONTEXT)
    assert fact.value == "problem"
    assert fact.detail.startswith("Dual-write packages and their dependencies: ")
    assert "failed to install" in fact.detail
    assert "Remedy: Install the failed or missing packages" in fact.detail
    shot = healthy(packages=packages)
    row = read_row(listed_row(DEPLOYED, READ), shot, assess(DEPLOYED, shot, read_only=False), doctor=fact)
    assert cell(row, Column.DOCTOR, READ) == "!!"


def test_the_first_problem_in_the_doctors_order_and_how_many_more() -> None:
    servicing = replace(DEPLOYED, deployment_status="Servicing", deployment_state="InProgress")
    fact = judge(servicing, healthy(packages=package(PackageState.INSTALL_FAILED)), CONTEXT)
    assert fact.value == "problem"
    assert fact.detail.startswith("Environment deployed, not being serviced: ")
    assert "[I] (and 1 more)." in fact.detail  # the doctor marks LCS's servicing words inferred


def test_production_is_a_problem_while_the_profile_keeps_it_read_only() -> None:
    production = replace(DEPLOYED, environment_type="Production")
    assert judge(production, healthy(), CONTEXT).value == "problem"
    allowed = replace(CONTEXT, allow_production_changes=True)
    assert judge(production, healthy(), allowed).value == "ok"


def test_without_a_gateway_host_the_gateway_check_is_the_problem() -> None:
    no_gateway = Fault("dual-write gateway", "set dualwrite_gateway_url", "not_configured")
    found = states(findings(DEPLOYED, healthy(link=no_gateway), replace(CONTEXT, gateway_url="")))
    assert found[c.DUALWRITE_GATEWAY] is CheckState.PROBLEM
    assert found[c.DUALWRITE_LINK] is CheckState.UNKNOWN  # as dwtui doctor says: no gateway to ask


def test_a_fact_that_could_not_be_read_is_unknown_and_shown_as_such() -> None:
    down = Fault("dual-write gateway", "no answer", "timeout")
    fact = judge(DEPLOYED, healthy(link=down), CONTEXT)
    assert fact.value == "unknown"
    assert fact.detail.startswith("Link to the Power Platform environment: could not")
    row = replace(listed_row(DEPLOYED, READ), doctor=fact)
    assert cell(row, Column.DOCTOR, READ) == "?"


def test_a_mismatch_is_a_problem_and_the_links_next_steps_are_not() -> None:
    mismatch = healthy(link=linked_to("https://other.crm.dynamics.com/"))
    assert states(findings(DEPLOYED, mismatch, CONTEXT))[c.DUALWRITE_MISMATCH] is CheckState.PROBLEM
    linked = healthy(link=linked_to("https://contoso-uat.crm.dynamics.com/"))
    assert judge(DEPLOYED, linked, CONTEXT).value == "ok"
    not_linked = healthy(link=DualWriteLink(linked=False))
    assert judge(DEPLOYED, not_linked, CONTEXT).value == "ok"  # the next step of the setup


def test_another_tenants_dataverse_is_a_problem() -> None:
    other = healthy(integration=replace(DETAILS, tenant_id="99999999-2222-3333-4444-555555555555"))
    assert states(findings(DEPLOYED, other, CONTEXT))[c.INTEGRATION_TENANT] is CheckState.PROBLEM
