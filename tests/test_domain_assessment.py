"""The LCS page's rules: states, the linking-mismatch check and which actions are offered."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dwtui.domain.assessment import (
    MISMATCH_WARNING,
    Action,
    AppState,
    IntegrationState,
    LinkState,
    Remedy,
    assess,
    normalise_url,
    same_url,
)
from dwtui.domain.models import (
    ApplicationPackage,
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
    PackageState,
    PowerPlatformSnapshot,
)
from dwtui.domain.packages import Installed

UAT = LcsEnvironment(
    environment_id="a" * 32,
    name="contoso-uat",
    project_id="1234567",
    environment_type="Sandbox",
    fo_url="https://contoso-uat.sandbox.operations.dynamics.com/",
)
PROD = LcsEnvironment(
    environment_id="b" * 32,
    name="contoso-prod",
    project_id="1234567",
    environment_type="Production",
    fo_url="https://contoso-prod.operations.dynamics.com/",
)
ONEBOX = LcsEnvironment(
    environment_id="c" * 32,
    name="contoso-dev",
    project_id="1234567",
    environment_type="DevTestDev",
    fo_url="https://contosodev1a2b.axcloud.dynamics.com/",
)
DATAVERSE = DataverseEnvironment(
    bap_environment_id="e1",
    display_name="contoso-uat",
    instance_url="https://contoso-uat.crm.dynamics.com/",
    linked_fo_environment_id=UAT.environment_id,
    linked_fo_url=UAT.fo_url,
)
DETAILS = IntegrationDetails(fo_url=UAT.fo_url, tenant_id="t", fo_environment_id=UAT.environment_id)
NOT_INTEGRATED = Fault(service="Dataverse", message="not integrated", code="0x80048d0b", http_status=400)


def package(state: PackageState) -> tuple[ApplicationPackage, ...]:
    """An integrated environment's list: the core solution installed (the Power Platform Integration
    template does that), the Dual-write Application Core in `state`."""
    return (
        ApplicationPackage("msdyn_Other", "Something else", "1.0", PackageState.INSTALLED),
        ApplicationPackage(
            "DualWriteCoreAnchor", "Dual-write core solution", "1.0.20.0", PackageState.INSTALLED
        ),
        ApplicationPackage(
            "msdyn_DualWriteAppCoreAnchor", "Dual-write Application Core Solutions", "1.0.24.0", state
        ),
    )


def linked_to(url: str) -> DualWriteLink:
    return DualWriteLink(linked=True, connection_set_id="cid", connection_set_name="cs", dataverse_url=url)


def snapshot(**parts: object) -> PowerPlatformSnapshot:
    base: dict[str, object] = {
        "dataverse": DATAVERSE,
        "integration": DETAILS,
        "packages": package(PackageState.NOT_INSTALLED),
        "link": DualWriteLink(linked=False),
    }
    base.update(parts)
    return PowerPlatformSnapshot(**base)  # type: ignore[arg-type]


def test_happy_offers_dual_write_application_only() -> None:
    result = assess(UAT, snapshot(), read_only=False)
    assert result.integration is IntegrationState.SET_UP
    assert result.app is AppState.NOT_INSTALLED
    assert result.app_version == ""  # the version on offer is not an installed version
    assert result.link is LinkState.NOT_LINKED
    assert result.mismatch is None
    assert result.actions[Action.SETUP_DUAL_WRITE].enabled
    assert not result.actions[Action.LINK].enabled
    assert "install the dual-write application first" in result.actions[Action.LINK].reason
    assert not result.actions[Action.RESET].enabled


def test_installed_offers_link_and_reports_version() -> None:
    result = assess(UAT, snapshot(packages=package(PackageState.INSTALLED)), read_only=False)
    assert result.app is AppState.INSTALLED
    assert result.app_version == "1.0.24.0"
    assert result.actions[Action.LINK].enabled
    assert not result.actions[Action.SETUP_DUAL_WRITE].enabled


def test_core_installed_by_the_integration_is_not_the_dual_write_application() -> None:
    """Issue 9's first failure: DualWriteCoreAnchor alone (what Power Platform Integration's Standard
    template installs) is not the dual-write application; Configure must be offered."""
    listed = (
        ApplicationPackage(
            "DualWriteCoreAnchor", "Dual-write core solution", "1.0.20.0", PackageState.INSTALLED
        ),
        ApplicationPackage(
            "msdyn_DualWriteAppCoreAnchor",
            "Dual-write Application Core",
            "1.0.24.0",
            PackageState.NOT_INSTALLED,
        ),
    )
    result = assess(UAT, snapshot(packages=listed), read_only=False)
    assert result.app is AppState.NOT_INSTALLED
    assert result.actions[Action.SETUP_DUAL_WRITE].enabled
    assert not result.actions[Action.LINK].enabled
    states = {status.package.unique_name: status.state for status in result.packages}
    assert states["DualWriteCoreAnchor"] is Installed.INSTALLED
    assert states["msdyn_DualWriteAppCoreAnchor"] is Installed.NOT_INSTALLED
    assert states["msdyn_Dynamics365FinanceExtendedAnchor"] is Installed.NOT_LISTED


def test_unique_names_are_compared_without_case() -> None:
    # The PPI article writes MsDyn_DualWriteAppCoreAnchor, the catalogue msdyn_DualWriteAppCoreAnchor.
    listed = (
        ApplicationPackage("dualwritecoreanchor", "core", "1", PackageState.INSTALLED),
        ApplicationPackage("MsDyn_DualWriteAppCoreAnchor", "app core", "2", PackageState.INSTALLED),
    )
    result = assess(UAT, snapshot(packages=listed), read_only=False)
    assert result.app is AppState.INSTALLED
    assert result.app_version == "2"


def test_optional_packages_keep_the_dual_write_application_button_available() -> None:
    listed = (
        *package(PackageState.INSTALLED),
        ApplicationPackage(
            "msdyn_Dynamics365FinanceExtendedAnchor", "Finance", "3", PackageState.NOT_INSTALLED
        ),
    )
    result = assess(UAT, snapshot(packages=listed), read_only=False)
    assert result.app is AppState.INSTALLED
    assert result.actions[Action.SETUP_DUAL_WRITE].enabled  # to add Finance
    assert result.actions[Action.LINK].enabled


def test_environment_without_dataverse_offers_add_dataverse_and_nothing_else() -> None:
    """Issue 9's third failure: a linked Power Platform environment without Dataverse is not "set up"."""
    no_dataverse = DataverseEnvironment(
        bap_environment_id="pp",
        display_name="contoso-uat",
        instance_url="",
        linked_fo_environment_id=UAT.environment_id,
    )
    result = assess(UAT, snapshot(dataverse=no_dataverse, integration=None, packages=None), read_only=False)
    assert result.integration is IntegrationState.NO_DATAVERSE
    assert result.actions[Action.ADD_DATAVERSE].enabled
    assert not result.actions[Action.SETUP_DUAL_WRITE].enabled
    assert "add Dataverse first" in result.actions[Action.SETUP_DUAL_WRITE].reason
    assert not assess(UAT, snapshot(), read_only=False).actions[Action.ADD_DATAVERSE].enabled
    read_only = assess(
        PROD, snapshot(dataverse=no_dataverse, integration=None, packages=None), read_only=True
    )
    assert not read_only.actions[Action.ADD_DATAVERSE].enabled


def test_failed_install_offers_retry() -> None:
    result = assess(UAT, snapshot(packages=package(PackageState.INSTALL_FAILED)), read_only=False)
    assert result.app is AppState.FAILED
    assert result.actions[Action.SETUP_DUAL_WRITE].enabled


def test_linked_to_same_dataverse_is_not_a_mismatch_despite_case_and_slash() -> None:
    link = linked_to("HTTPS://Contoso-UAT.crm.dynamics.com")
    result = assess(UAT, snapshot(packages=package(PackageState.INSTALLED), link=link), read_only=False)
    assert result.link is LinkState.LINKED
    assert result.mismatch is None
    assert not result.actions[Action.RESET].enabled


def test_linked_elsewhere_is_a_mismatch_with_reset_remedy() -> None:
    link = linked_to("https://contoso-uat-old.crm.dynamics.com/")
    result = assess(UAT, snapshot(packages=package(PackageState.INSTALLED), link=link), read_only=False)
    assert result.mismatch is not None
    assert result.mismatch.remedy is Remedy.RESET_CONNECTION
    assert result.mismatch.warning == MISMATCH_WARNING
    assert result.mismatch.integration_dataverse_url == DATAVERSE.instance_url
    assert result.mismatch.dual_write_dataverse_url == link.dataverse_url
    assert result.actions[Action.RESET].enabled


def test_linked_without_integration_is_a_mismatch_with_connect_remedy() -> None:
    link = linked_to("https://contoso-uat-old.crm.dynamics.com/")
    result = assess(
        UAT, snapshot(dataverse=None, integration=None, packages=None, link=link), read_only=False
    )
    assert result.integration is IntegrationState.NOT_SET_UP
    assert result.mismatch is not None
    assert result.mismatch.remedy is Remedy.CONNECT_INTEGRATION
    assert result.mismatch.integration_dataverse_url == ""


def test_dataverse_saying_not_integrated_means_not_set_up_and_is_not_a_fault() -> None:
    result = assess(UAT, snapshot(integration=NOT_INTEGRATED), read_only=False)
    assert result.integration is IntegrationState.NOT_SET_UP
    assert result.faults == ()
    assert not result.actions[Action.SETUP_DUAL_WRITE].enabled
    assert "Power Platform Integration" in result.actions[Action.SETUP_DUAL_WRITE].reason


def test_unreadable_sources_are_unknown_and_reported() -> None:
    down = Fault(service="dual-write gateway", message="HTTP 503", code="HTTP 503", http_status=503)
    bap_down = Fault(service="BAP admin API", message="timeout", code="timeout")
    result = assess(
        UAT, snapshot(dataverse=bap_down, integration=None, packages=None, link=down), read_only=False
    )
    assert result.integration is IntegrationState.UNKNOWN
    assert result.link is LinkState.UNKNOWN
    assert set(result.faults) == {down, bap_down}
    assert not result.actions[Action.SETUP_DUAL_WRITE].enabled


def test_production_is_read_only_unless_allowed() -> None:
    result = assess(PROD, snapshot(), read_only=True)
    for action in (Action.SETUP_DUAL_WRITE, Action.LINK, Action.RESET):
        assert not result.actions[action].enabled
        assert "read-only" in result.actions[action].reason
    assert result.actions[Action.REFRESH].enabled
    assert assess(PROD, snapshot(), read_only=False).actions[Action.SETUP_DUAL_WRITE].enabled


def test_onebox_action_only_for_onebox() -> None:
    assert assess(ONEBOX, snapshot(), read_only=False).actions[Action.ONEBOX].enabled
    assert not assess(UAT, snapshot(), read_only=False).actions[Action.ONEBOX].enabled


def test_installing_and_linking_disable_their_actions() -> None:
    result = assess(UAT, snapshot(), read_only=False, installing=True)
    assert result.app is AppState.INSTALLING
    assert not result.actions[Action.SETUP_DUAL_WRITE].enabled
    linking = assess(UAT, snapshot(packages=package(PackageState.INSTALLED)), read_only=False, linking=True)
    assert linking.link is LinkState.LINKING
    assert not linking.actions[Action.LINK].enabled


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://x.crm.dynamics.com/", "https://X.CRM.dynamics.com", True),
        ("https://x.crm.dynamics.com", "https://x.crm.dynamics.com:443/", True),
        ("x.crm.dynamics.com", "https://x.crm.dynamics.com/", True),
        ("https://x.crm.dynamics.com", "https://y.crm.dynamics.com", False),
        ("https://127.0.0.1:8443/dataverse/a/", "https://127.0.0.1:8443/dataverse/b/", False),
        ("", "", False),
    ],
)
def test_same_url(a: str, b: str, same: bool) -> None:
    assert same_url(a, b) is same


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){1,3}", fullmatch=True)


@given(host=hosts, upper=st.booleans(), slash=st.booleans())
def test_normalise_url_ignores_case_and_trailing_slash(host: str, upper: bool, slash: bool) -> None:
    variant = f"https://{host.upper() if upper else host}{'/' if slash else ''}"
    assert normalise_url(variant) == normalise_url(f"https://{host}")


@given(a=hosts, b=hosts)
def test_different_hosts_never_compare_equal(a: str, b: str) -> None:
    assert same_url(f"https://{a}/", f"https://{b}/") is (a == b)
