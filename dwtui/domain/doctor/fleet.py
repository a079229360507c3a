"""The fleet's "doctor's worst finding": the doctor's checks that need no read of their own.

For every environment the fleet reads what the main screen reads: LCS's listing, the Power Platform
environment BAP names, Dataverse's integration details, the package list and the link. The doctor's
judgements (access, environment, integration, dualwrite) are pure, so applied to those facts they
give the doctor's own findings for every check that needs nothing more, without a single extra call
(running the whole doctor for 60 environments would multiply the calls). It is dwtui's judgement of
facts already read, not an inference about a service: a finding is marked inferred only where the
doctor marks it so.

Left to `dwtui doctor`, since each needs calls of its own: a token per API (sign-in and consent),
your Dataverse roles, the running table maps, and the one-box steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dwtui.domain.doctor import access, dualwrite, environment, integration
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.model import CheckResult, CheckState, Finding, worst
from dwtui.domain.fleet import Fact
from dwtui.domain.gateway import how_to_find
from dwtui.domain.models import (
    DataverseEnvironment,
    DualWriteLink,
    Fault,
    LcsEnvironment,
    PowerPlatformSnapshot,
)

# Session.power_platform's fault for a profile without a gateway host: the doctor reads that as "no link".
NO_GATEWAY_CODE = "not_configured"
WHAT_IS_CHECKED = "the doctor's checks that need no extra read"


@dataclass(frozen=True, slots=True)
class FleetDoctorContext:
    """What the profile and the sign-in say: the same for every row."""

    allow_production_changes: bool = False
    signed_in_tenant: str = ""  # the tenant GUID of your sign-in; "" when dwtui does not know it
    gateway_url: str = ""  # the profile's dualwrite_gateway_url
    gateway_is_simulator: bool = False


Judge = Callable[[LcsEnvironment, PowerPlatformSnapshot, FleetDoctorContext], Finding]


def _link(snapshot: PowerPlatformSnapshot) -> DualWriteLink | Fault | None:
    link = snapshot.link
    return None if isinstance(link, Fault) and link.code == NO_GATEWAY_CODE else link


def _gateway(env: LcsEnvironment, snapshot: PowerPlatformSnapshot, context: FleetDoctorContext) -> Finding:
    dataverse = snapshot.dataverse
    cluster = dataverse.cluster_uri_suffix if isinstance(dataverse, DataverseEnvironment) else ""
    return dualwrite.gateway_host(
        context.gateway_url,
        simulator=context.gateway_is_simulator,
        how_to_find=how_to_find(env.fo_url, cluster) if env.fo_url else "",
    )


def _mismatch(env: LcsEnvironment, snapshot: PowerPlatformSnapshot, context: FleetDoctorContext) -> Finding:
    link = _link(snapshot)
    if isinstance(link, DualWriteLink) and link.linked:
        return dualwrite.mismatch(env, snapshot.dataverse, link, snapshot.link_dataverse_integration)
    return dualwrite.mismatch(env, None, link)


# Each check as `dwtui doctor` wires it (services/doctor_checks.py), from the facts the fleet read.
JUDGES: dict[str, Judge] = {
    c.RIGHTS_LCS: lambda env, snapshot, context: access.lcs_role(env),
    c.RIGHTS_POWER_PLATFORM: lambda env, snapshot, context: access.power_platform_admin(snapshot.dataverse),
    c.ENVIRONMENT_STATE: lambda env, snapshot, context: environment.deployment(env),
    c.ENVIRONMENT_TYPE: lambda env, snapshot, context: environment.environment_type(
        env, context.allow_production_changes
    ),
    c.ENVIRONMENT_VERSION: lambda env, snapshot, context: environment.version(env),
    c.INTEGRATION_SETUP: lambda env, snapshot, context: integration.setup(
        env, snapshot.dataverse, snapshot.integration
    ),
    c.INTEGRATION_DATAVERSE: lambda env, snapshot, context: integration.dataverse_ready(snapshot.dataverse),
    c.INTEGRATION_TENANT: lambda env, snapshot, context: integration.tenant(
        snapshot.dataverse, snapshot.integration, context.signed_in_tenant
    ),
    c.DUALWRITE_PACKAGES: lambda env, snapshot, context: dualwrite.packages(
        snapshot.dataverse, snapshot.packages
    ),
    c.DUALWRITE_GATEWAY: _gateway,
    c.DUALWRITE_LINK: lambda env, snapshot, context: dualwrite.link(env, _link(snapshot)),
    c.DUALWRITE_MISMATCH: _mismatch,
}
CHECKS: tuple[str, ...] = tuple(spec.check_id for spec in c.CATALOGUE if spec.check_id in JUDGES)


def findings(
    env: LcsEnvironment, snapshot: PowerPlatformSnapshot, context: FleetDoctorContext
) -> tuple[CheckResult, ...]:
    """Every check of CHECKS on the facts read, in the catalogue's order (as `dwtui doctor` lists them)."""
    return tuple(
        CheckResult.of(c.BY_ID[check], JUDGES[check](env, snapshot, context), 0.0) for check in CHECKS
    )


def worst_fact(results: Sequence[CheckResult], read_at: float | None) -> Fact:
    """The fleet cell: the most severe finding (a problem before an unknown before an ok), in words."""
    chosen = worst(results)
    if chosen is None:
        return Fact(CheckState.NOT_APPLICABLE.value, read_at, f"none of {WHAT_IS_CHECKED} applies")
    same = sum(1 for result in results if result.state is chosen.state)
    if chosen.state is CheckState.OK:
        idle = len(results) - same
        besides = f", {idle} {'does' if idle == 1 else 'do'} not apply" if idle else ""
        detail = (
            f"{same} of {WHAT_IS_CHECKED} pass{besides}; sign-in, your Dataverse roles, the table maps "
            "and the one-box steps need dwtui doctor"
        )
        return Fact(CheckState.OK.value, read_at, detail)
    more = f" (and {same - 1} more)" if same > 1 else ""
    marked = " [I]" if chosen.inferred else ""
    remedy = f" Remedy: {chosen.remedy}" if chosen.remedy else ""
    detail = f"{chosen.title}: {chosen.summary.rstrip('.')}{marked}{more}.{remedy}"
    return Fact(chosen.state.value, read_at, detail)


def judge(env: LcsEnvironment, snapshot: PowerPlatformSnapshot, context: FleetDoctorContext) -> Fact:
    """The doctor's worst finding for one environment, aged as the facts it judged."""
    return worst_fact(findings(env, snapshot, context), snapshot.read_at)
