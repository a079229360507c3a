"""Dual-write itself: the packages and their dependencies, the gateway host, the link, the linking
mismatch and the table maps a reset would stop.

The package states, the link state and the mismatch are the main screen's judgements
(dwtui.domain.packages.statuses, dwtui.domain.assessment.assess); the doctor decides which of them
stop dual-write and says why. A package not installed yet, or a link not made yet, is what the
setup does next, not a problem; a failed install, a broken dependency, a failed link request and
a mismatch are.
"""

from __future__ import annotations

from collections.abc import Sequence

from dwtui.domain.assessment import LinkState, Remedy, assess
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.common import could_not_read, short
from dwtui.domain.doctor.model import CheckState, Evidence, Finding
from dwtui.domain.errors import explain
from dwtui.domain.gateway import LINK_UNVERIFIED
from dwtui.domain.models import (
    ApplicationPackage,
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
    PowerPlatformSnapshot,
)
from dwtui.domain.packages import BY_KEY, Installed, PackageStatus, statuses

_PRESENT = (Installed.INSTALLED, Installed.INSTALLING)


def _state_text(status: PackageStatus) -> str:
    version = f" {status.version}" if status.version else ""
    return f"{status.package.title}: {status.state.value}{version}"


def packages(
    dataverse: DataverseEnvironment | Fault | None,
    listed: Sequence[ApplicationPackage] | Fault | None,
) -> Finding:
    if isinstance(dataverse, Fault):
        return could_not_read("the Power Platform environments", dataverse, c.BAP_ENVIRONMENTS)
    if dataverse is None or not dataverse.instance_url:
        return Finding(
            CheckState.NOT_APPLICABLE, "no Dataverse to install packages in (see Power Platform Integration)"
        )
    if isinstance(listed, Fault):
        return could_not_read("the package list", listed, c.PACKAGES)
    if listed is None:
        return Finding(CheckState.UNKNOWN, "the package list was not read")
    found = statuses(tuple(listed))
    by_key = {status.package.key: status for status in found}
    evidence = (Evidence.of(c.PACKAGES, short("; ".join(_state_text(s) for s in found), 600)),)
    problems: list[str] = []
    for status in found:
        package = status.package
        if status.state is Installed.FAILED:
            why = f": {status.error}" if status.error else ""
            problems.append(f"{package.title} failed to install{why}")
        elif status.state is Installed.UNKNOWN:
            problems.append(f"{package.title} is in a state dwtui does not know")
        elif status.state is Installed.NOT_LISTED and package.application:
            problems.append(
                f"{package.title} ({package.unique_name}) is not in the package list, so it "
                "cannot be installed here"
            )
        if status.state in _PRESENT:
            for key in package.requires:
                needed = by_key[key]
                if needed.state not in _PRESENT:
                    problems.append(
                        f"{package.title} is installed but needs {BY_KEY[key].title}, which is "
                        f"{needed.state.value}"
                    )
    if problems:
        return Finding(CheckState.PROBLEM, short("; ".join(problems), 600), evidence)
    application = [s for s in found if s.package.application]
    missing = [s.package.title for s in application if s.state is not Installed.INSTALLED]
    others = [s.package.title for s in found if not s.package.application and s.state is Installed.INSTALLED]
    head = (
        "the dual-write application is installed"
        if not missing
        else f"nothing blocks the install; not installed yet: {', '.join(missing)} (d or dwtui setup)"
    )
    extra = f"; also installed: {', '.join(others)}" if others else ""
    return Finding(CheckState.OK, head + extra, evidence)


def gateway_host(url: str, *, simulator: bool, how_to_find: str) -> Finding:
    if url:
        which = " (the simulator's)" if simulator else ""
        return Finding(
            CheckState.OK,
            f"set in the profile: {url}{which}",
            (Evidence.of(c.PROFILE, f"dualwrite_gateway_url = {url}"),),
        )
    return Finding(
        CheckState.PROBLEM,
        "the profile names no dual-write gateway, so the link state, the linking mismatch and reset "
        "cannot be read; no documented way computes its host",
        (Evidence.of(c.PROFILE, 'dualwrite_gateway_url = ""'),),
        remedy=how_to_find,
        inferred=True,
    )


def _link_answer(link: DualWriteLink) -> Evidence:
    if not link.linked and not link.linking:
        answer = "no connection set for this host" if link.request is None else "its link request failed"
    else:
        answer = (
            f"connection set {link.connection_set_name or link.connection_set_id} with Dataverse "
            f"{link.dataverse_url or '(none)'}"
        )
    if link.request is not None:
        answer += f"; newest link request {link.request.request_id} state {link.request.state}"
    return Evidence.of(c.GATEWAY_LINK, answer, inferred=link.request is not None)


def _not_readable(link: DualWriteLink | Fault | None) -> Finding | None:
    if link is None:
        return Finding(
            CheckState.UNKNOWN,
            "the profile names no dual-write gateway, so the link cannot be read (see the gateway check)",
            remedy="Set dualwrite_gateway_url in the profile (see the gateway host check).",
        )
    if isinstance(link, Fault):
        return could_not_read("the link state", link, c.GATEWAY_LINK)
    return None


def link(environment: LcsEnvironment, link: DualWriteLink | Fault | None) -> Finding:
    """`link` is None when the profile names no gateway."""
    unreadable = _not_readable(link)
    if unreadable is not None:
        return unreadable
    assert isinstance(link, DualWriteLink)
    evidence = (_link_answer(link),)
    request = link.request
    if request is not None and request.failed and not link.linked:
        fault = Fault(c.GATEWAY_LINK.service, request.message or "the link request failed", request.code)
        explanation = explain(fault)
        code = f"{request.code}: " if request.code else ""
        return Finding(
            CheckState.PROBLEM,
            short(f"the last link request failed: {code}{request.message or 'no message'}"),
            evidence,
            remedy=explanation.remedy,
            doc=explanation.doc,
            inferred=True,
        )
    snapshot = PowerPlatformSnapshot(dataverse=None, integration=None, packages=None, link=link)
    state = assess(environment, snapshot, read_only=False).link
    if state is LinkState.LINKING:
        return Finding(
            CheckState.OK, f"a link request is running ({LINK_UNVERIFIED})", evidence, inferred=True
        )
    if state is LinkState.LINKED:
        return Finding(CheckState.OK, f"linked to {link.dataverse_url or 'a Dataverse'}", evidence)
    return Finding(
        CheckState.OK,
        "not linked yet: once the dual-write application is installed, link it (press l)",
        evidence,
    )


def mismatch(
    environment: LcsEnvironment,
    dataverse: DataverseEnvironment | Fault | None,
    link: DualWriteLink | Fault | None,
    link_dataverse_integration: IntegrationDetails | Fault | None = None,
) -> Finding:
    unreadable = _not_readable(link)
    if unreadable is not None:
        return unreadable
    assert isinstance(link, DualWriteLink)
    if not link.linked or not link.dataverse_url:
        return Finding(CheckState.NOT_APPLICABLE, "dual-write is not linked: nothing to compare")
    if isinstance(dataverse, Fault):
        return could_not_read("the Power Platform environments", dataverse, c.BAP_ENVIRONMENTS)
    snapshot = PowerPlatformSnapshot(
        dataverse=dataverse,
        integration=None,
        packages=None,
        link=link,
        link_dataverse_integration=link_dataverse_integration,
    )
    found = assess(environment, snapshot, read_only=False).mismatch
    integration_url = dataverse.instance_url if isinstance(dataverse, DataverseEnvironment) else ""
    evidence = (
        Evidence.of(c.BAP_ENVIRONMENTS, f"Power Platform Integration: {integration_url or 'no Dataverse'}"),
        Evidence.of(c.GATEWAY_LINK, f"dual-write is linked to {link.dataverse_url}"),
    )
    if found is None:
        return Finding(
            CheckState.OK,
            f"dual-write and Power Platform Integration name the same Dataverse: {link.dataverse_url}",
            evidence,
            inferred=True,
        )
    remedy = (
        "Set up Power Platform Integration in LCS with the Dataverse dual-write uses "
        f"({found.dual_write_dataverse_url})."
        if found.remedy is Remedy.CONNECT_INTEGRATION
        else ""
    )
    return Finding(
        CheckState.PROBLEM,
        f"{found.warning} Integration: {found.integration_dataverse_url or 'none'}; dual-write: "
        f"{found.dual_write_dataverse_url}",
        evidence,
        remedy=remedy,
        inferred=True,
    )


def table_maps(
    link: DualWriteLink | Fault | None, running: Sequence[str] | Fault | None, *, mismatch: bool
) -> Finding:
    unreadable = _not_readable(link)
    if unreadable is not None:
        return unreadable
    assert isinstance(link, DualWriteLink)
    if not link.linked:
        return Finding(CheckState.NOT_APPLICABLE, "dual-write is not linked: no table maps")
    if isinstance(running, Fault):
        return could_not_read("the table maps", running, c.GATEWAY_MAPS)
    if running is None:
        return Finding(CheckState.UNKNOWN, "the table maps were not read")
    names = ", ".join(running)
    evidence = (Evidence.of(c.GATEWAY_MAPS, f"running (not stopped): {names or 'none'}"),)
    if not running:
        return Finding(CheckState.OK, "no table map runs: a reset would stop none", evidence)
    count = f"{len(running)} table map(s) run ({names})"
    if mismatch:
        return Finding(
            CheckState.PROBLEM,
            f"{count}: the mismatch's remedy, a reset, needs Force Reset, which stops them",
            evidence,
        )
    return Finding(CheckState.OK, f"{count}: a reset would need Force Reset and stop them", evidence)
