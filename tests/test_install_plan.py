"""Plans of dual-write packages: dependency order, one install at a time, never a package twice,
the first failure stops the plan, and a plan goes on after a restart. Against the simulator over TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from dwtui.domain.models import PackageState
from dwtui.domain.operations import OperationKind, OperationStatus
from dwtui.domain.packages import (
    APPLICATION_KEYS,
    CATALOGUE,
    PackageProblem,
    by_name,
    dependents,
    install_plan,
    with_dependencies,
)
from dwtui.services.errors import ServiceError
from dwtui.services.install import (
    continue_plan,
    prepare_choice,
    prepare_install,
    read_packages,
    resume_install,
    start_install,
    wanted_keys,
)
from dwtui.services.operations import AlreadyRunning, OperationStore
from dwtui.services.watch import Finished, watch
from dwtui.sim.server import SimServer
from tests.conftest import SimFactory
from tests.install_support import Recorder, app_session, install_posts

SPEED = 1200.0
APP_CORE = "msdyn_DualWriteAppCoreAnchor"
FINANCE = "msdyn_Dynamics365FinanceExtendedAnchor"
NOTES = "msdyn_Dynamics365NotesAnchor"


def started_sim(sim_factory: SimFactory, scenario: str = "happy") -> SimServer:
    sim = sim_factory(scenario, speed=SPEED, device_code_lifetime=60.0)
    sim.world.install_seconds = 600.0
    return sim


def posted_packages(sim: SimServer) -> list[str]:
    return [r["path"].split("/applicationPackages/")[1].split("/")[0] for r in install_posts(sim)]


# -- the catalogue (pure) ------------------------------------------------------------------------


def test_every_dependency_comes_before_what_needs_it() -> None:
    seen: set[str] = set()
    for package in CATALOGUE:
        assert set(package.requires) <= seen, package.key
        seen.add(package.key)


def test_documented_dependencies() -> None:
    # separated-solutions.md, package by package (Supply Chain lists four though it says three).
    assert with_dependencies(("notes",)) == {"notes", "finance", "app-core", "core"}
    assert with_dependencies(("hr",)) == {"hr", "hr-common", "app-core", "core"}
    assert with_dependencies(("supply-chain",)) == {
        "supply-chain",
        "finance",
        "hr",
        "hr-common",
        "app-core",
        "core",
    }
    assert with_dependencies(("party-gab",)) >= {"supply-chain", "finance", "app-core"}
    assert dependents("finance") == {"notes", "supply-chain", "party-gab"}
    assert APPLICATION_KEYS == ("core", "app-core")
    assert by_name("MSDYN_dynamics365financeextendedanchor").key == "finance"
    assert by_name("Dual-write Notes").key == "notes"
    with pytest.raises(PackageProblem) as unknown:
        by_name(" accounts ")
    known = "core, app-core, finance, hr-common, hr, supply-chain, notes, asset-management, party-gab"
    assert str(unknown.value) == f"no dual-write package is called 'accounts'; the packages are: {known}"


def test_a_plan_skips_installed_packages_and_refuses_unlisted_ones() -> None:
    from dwtui.domain.models import ApplicationPackage

    listed = (
        ApplicationPackage("DualWriteCoreAnchor", "core", "1", PackageState.INSTALLED),
        ApplicationPackage(APP_CORE, "app core", "2", PackageState.INSTALL_FAILED),
        ApplicationPackage(FINANCE, "finance", "3", PackageState.NOT_INSTALLED),
    )
    plan = install_plan(listed, ("finance",))
    assert [status.package.key for status in plan] == ["app-core", "finance"]  # failed: again
    with pytest.raises(PackageProblem, match="not in this environment's package list"):
        install_plan(listed, ("notes",))


def test_a_package_being_installed_or_in_a_state_not_known_stops_the_plan_and_says_which() -> None:
    from dwtui.domain.models import ApplicationPackage
    from dwtui.domain.packages import Installed, statuses

    def listed(app_core: PackageState) -> tuple[ApplicationPackage, ...]:
        return (
            ApplicationPackage("DualWriteCoreAnchor", "core", "1", PackageState.INSTALLED),
            ApplicationPackage(APP_CORE, "app core", "2", app_core, error="DependencyMissing: core"),
        )

    unknown = statuses(listed(PackageState.UNKNOWN))
    assert unknown[1].state is Installed.UNKNOWN and unknown[1].version == ""
    assert unknown[1].error == "DependencyMissing: core"  # the listing's own words go along
    with pytest.raises(PackageProblem) as not_known:
        install_plan(listed(PackageState.UNKNOWN), ("app-core",))
    assert str(not_known.value) == (
        "Dual-write Application Core is in a state this version does not know; refresh"
    )
    with pytest.raises(PackageProblem) as installing:
        install_plan(listed(PackageState.INSTALLING), ("app-core",))
    assert str(installing.value) == "Dual-write Application Core is being installed; wait until it ends"


# -- against the simulator -----------------------------------------------------------------------


def test_two_packages_with_a_dependency_install_in_order_once_each(
    sim_factory: SimFactory, tmp_path: Path
) -> None:
    sim = started_sim(sim_factory)
    session = app_session(sim)
    store = OperationStore(tmp_path / "operations.json")
    environment = session.environment(session.profile.environment_id)
    plan = prepare_install(
        session, environment, session.power_platform(environment), wanted_keys(("finance",))
    )
    assert plan.names == (APP_CORE, FINANCE)
    record = start_install(session, plan, store)
    assert record.package == APP_CORE and record.plan == (APP_CORE, FINANCE)
    # One install at a time per environment: the plan's second package waits for the first.
    with pytest.raises(AlreadyRunning):
        start_install(session, plan, store)
    finals = []
    while record is not None:
        recorder = Recorder()
        final = watch(session.ppapi, record, on_event=recorder, store=store, speed=sim.speed)
        assert recorder.wait_for(Finished, timeout=0).status is OperationStatus.SUCCEEDED
        finals.append(final)
        record = continue_plan(session, environment, final, store)
    assert [f.package for f in finals] == [APP_CORE, FINANCE]
    assert posted_packages(sim) == [APP_CORE, FINANCE]
    states = {p.unique_name: p.state for p in session.ppapi.packages(plan.dataverse.bap_environment_id)}
    assert states[APP_CORE] is states[FINANCE] is PackageState.INSTALLED
    # Each package is one change in the audit trail.
    changes = [e.summary for e in session.activity.entries() if e.kind == "change"]
    assert [c.split("(")[1].split(")")[0] for c in changes] == [APP_CORE, FINANCE]
    session.close()


def test_a_failure_in_the_middle_stops_the_plan(sim_factory: SimFactory, tmp_path: Path) -> None:
    sim = started_sim(sim_factory, "dependency-failed")
    session = app_session(sim)
    store = OperationStore(tmp_path / "operations.json")
    environment = session.environment(session.profile.environment_id)
    plan = prepare_install(session, environment, session.power_platform(environment), wanted_keys(("notes",)))
    assert plan.names == (APP_CORE, FINANCE, NOTES)
    record = start_install(session, plan, store)
    first = watch(session.ppapi, record, on_event=Recorder(), store=store, speed=sim.speed)
    assert first.status is OperationStatus.SUCCEEDED
    second_record = continue_plan(session, environment, first, store)
    assert second_record is not None and second_record.package == FINANCE
    second = watch(session.ppapi, second_record, on_event=Recorder(), store=store, speed=sim.speed)
    assert second.status is OperationStatus.FAILED and second.error_code == "SolutionImportFailed"
    assert second.rest_of_plan() == (NOTES,)
    # Nothing needing Finance is requested after its failure, and a restart does not go on either.
    assert posted_packages(sim) == [APP_CORE, FINANCE]
    resumed = resume_install(session, store, environment.environment_id)
    assert resumed.record is None and resumed.unfinished is None
    assert posted_packages(sim) == [APP_CORE, FINANCE]
    session.close()


def test_a_plan_goes_on_after_a_restart_and_only_once(sim_factory: SimFactory, tmp_path: Path) -> None:
    sim = started_sim(sim_factory)
    session = app_session(sim)
    path = tmp_path / "operations.json"
    environment = session.environment(session.profile.environment_id)
    plan = prepare_install(
        session, environment, session.power_platform(environment), wanted_keys(("finance",))
    )
    record = start_install(session, plan, OperationStore(path))
    watch(session.ppapi, record, on_event=Recorder(), store=OperationStore(path), speed=sim.speed)
    # dwtui was closed before the next package was requested: the next start goes on with the plan.
    resumed = resume_install(session, OperationStore(path), environment.environment_id)
    assert resumed.record is None and resumed.unfinished is not None
    following = continue_plan(session, environment, resumed.unfinished, OperationStore(path))
    assert following is not None and following.package == FINANCE
    # Handed on once: another terminal resuming now finds the running install, not a plan to continue.
    again = resume_install(session, OperationStore(path), environment.environment_id)
    assert again.record is not None and again.record.package == FINANCE and again.unfinished is None
    assert posted_packages(sim) == [APP_CORE, FINANCE]
    session.close()


def test_the_simulator_refuses_a_package_before_what_it_needs(sim_factory: SimFactory) -> None:
    """[I] The service's refusal is undocumented; the simulator's keeps dwtui's order honest."""
    sim = started_sim(sim_factory)
    session = app_session(sim)
    environment = session.environment(session.profile.environment_id)
    choice = read_packages(session, environment, session.power_platform(environment))
    prepared = prepare_choice(session, choice)
    finance = prepared.steps["finance"].listing
    with pytest.raises(ServiceError) as refused:
        session.ppapi.install(choice.dataverse.bap_environment_id, finance)
    assert refused.value.fault.code == "DependencyNotInstalled" and APP_CORE in refused.value.fault.message
    session.close()


def test_choosing_tick_what_a_package_needs(sim_factory: SimFactory) -> None:
    sim = started_sim(sim_factory, "installed")
    session = app_session(sim)
    environment = session.environment(session.profile.environment_id)
    prepared = prepare_choice(
        session, read_packages(session, environment, session.power_platform(environment))
    )
    # Installed packages are not offered; the application is there, so only the optional ones are.
    assert "app-core" not in prepared.steps and "core" not in prepared.steps
    plan = prepared.plan(("notes",))
    assert [step.package.key for step in plan.steps] == ["finance", "notes"]
    with pytest.raises(ServiceError) as nothing:
        prepared.plan(("app-core",))
    assert nothing.value.fault.code == "already_installed"
    assert OperationKind.INSTALL.value == "install"
    session.close()


def test_unknown_package_names_are_refused_before_anything_is_read() -> None:
    with pytest.raises(ServiceError) as refused:
        wanted_keys(("finance", "nope"))
    assert refused.value.fault.code == "unknown_package"
    assert wanted_keys(("notes",)) == ("core", "app-core", "notes")
    assert len(wanted_keys(every=True)) == len(CATALOGUE)
