"""Power Platform Integration: set up, its Dataverse present and ready, and in the same tenant.

Whether it is set up is the main screen's own judgement (dwtui.domain.assessment.assess); the doctor
adds the evidence. The tenant check compares the TenantId Dataverse gives
(RetrieveFinanceAndOperationsIntegrationDetails) with the tenant you signed in to, taken as the
finance and operations environment's tenant [I]: dual-write supports no cross-tenant link
(requirements-and-prerequisites.md, "Provide the supported tenant configuration").
"""

from __future__ import annotations

from dwtui.domain.assessment import NOT_INTEGRATED_CODE, IntegrationState, assess
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.common import could_not_read, fault_evidence
from dwtui.domain.doctor.model import CheckState, Evidence, Finding
from dwtui.domain.models import (
    DataverseEnvironment,
    Fault,
    IntegrationDetails,
    LcsEnvironment,
    PowerPlatformSnapshot,
)

PROVISIONING = "linkeddatabaseprovisioning"  # properties.provisioningState while Dataverse is added (TF)


def _bap_answer(dataverse: DataverseEnvironment | None) -> Evidence:
    if dataverse is None:
        return Evidence.of(c.BAP_ENVIRONMENTS, "no environment's linkedAppMetadata names this environment")
    url = dataverse.instance_url or "none (no linkedEnvironmentMetadata.instanceUrl)"
    return Evidence.of(
        c.BAP_ENVIRONMENTS,
        f"{dataverse.display_name or dataverse.bap_environment_id} ({dataverse.bap_environment_id}) "
        f"is linked to it; Dataverse: {url}",
    )


def _details_answer(details: IntegrationDetails | Fault | None) -> Evidence | None:
    if details is None:
        return None
    if isinstance(details, Fault):
        return fault_evidence(c.DATAVERSE_DETAILS, details)
    return Evidence.of(
        c.DATAVERSE_DETAILS,
        f"Url {details.fo_url}, TenantId {details.tenant_id}, Id {details.fo_environment_id}",
    )


def setup(
    environment: LcsEnvironment,
    dataverse: DataverseEnvironment | Fault | None,
    details: IntegrationDetails | Fault | None,
) -> Finding:
    if isinstance(dataverse, Fault):
        return could_not_read("the Power Platform environments", dataverse, c.BAP_ENVIRONMENTS)
    snapshot = PowerPlatformSnapshot(dataverse=dataverse, integration=details, packages=None, link=None)
    state = assess(environment, snapshot, read_only=False).integration
    evidence = tuple(e for e in (_bap_answer(dataverse), _details_answer(details)) if e is not None)
    if state is IntegrationState.SET_UP:
        assert dataverse is not None
        return Finding(
            CheckState.OK,
            f"set up: {environment.name} is integrated with {dataverse.instance_url}",
            evidence,
        )
    if state is IntegrationState.NO_DATAVERSE:
        return Finding(
            CheckState.PROBLEM,
            "the Power Platform environment LCS gave this environment has no Dataverse yet",
            evidence,
            remedy="Add Dataverse: press P or run dwtui integrate, or use Setup in LCS (Environment "
            "details > Power Platform Integration).",
            doc=c.DOC_PPI_NEW_DATAVERSE,
        )
    if isinstance(details, Fault) and details.code == NOT_INTEGRATED_CODE:
        summary = "not set up: Dataverse says it is not integrated with finance and operations (0x80048d0b)"
    else:
        summary = "not set up: no Power Platform environment is linked to this environment"
    return Finding(CheckState.PROBLEM, summary, evidence)


def dataverse_ready(dataverse: DataverseEnvironment | Fault | None) -> Finding:
    if isinstance(dataverse, Fault):
        return could_not_read("the Power Platform environments", dataverse, c.BAP_ENVIRONMENTS)
    if dataverse is None or not dataverse.instance_url:
        return Finding(CheckState.NOT_APPLICABLE, "no Dataverse (see Power Platform Integration)")
    state = dataverse.instance_state.strip()
    version = f", version {dataverse.version}" if dataverse.version else ""
    evidence = (
        Evidence.of(
            c.BAP_ENVIRONMENTS,
            f"linkedEnvironmentMetadata.instanceState {state or '(none)'}, version "
            f"{dataverse.version or '(none)'}, provisioningState {dataverse.provisioning_state or '(none)'}",
        ),
    )
    if dataverse.provisioning_state.strip().lower() == PROVISIONING:
        return Finding(
            CheckState.PROBLEM, f"Dataverse {dataverse.instance_url} is still being added", evidence
        )
    if not state:
        return Finding(CheckState.UNKNOWN, "BAP does not say whether Dataverse is ready", evidence)
    if state.lower() == "ready":
        return Finding(CheckState.OK, f"Dataverse {dataverse.instance_url} is Ready{version}", evidence)
    return Finding(
        CheckState.PROBLEM, f"Dataverse {dataverse.instance_url} is {state}, not Ready{version}", evidence
    )


def _guid(value: str) -> str:
    return value.strip().strip("{}").lower()


def tenant(
    dataverse: DataverseEnvironment | Fault | None,
    details: IntegrationDetails | Fault | None,
    signed_in_tenant: str,
) -> Finding:
    """`signed_in_tenant`: the tenant id (a GUID) you signed in to, "" when dwtui does not know it."""
    if isinstance(dataverse, Fault):
        return could_not_read("the Power Platform environments", dataverse, c.BAP_ENVIRONMENTS)
    if dataverse is None or not dataverse.instance_url or details is None:
        return Finding(CheckState.NOT_APPLICABLE, "no Dataverse (see Power Platform Integration)")
    if isinstance(details, Fault):
        if details.code == NOT_INTEGRATED_CODE:
            return Finding(
                CheckState.NOT_APPLICABLE,
                "Dataverse is not integrated with finance and operations (see Power Platform Integration)",
            )
        return could_not_read("the integration details", details, c.DATAVERSE_DETAILS)
    evidence = (Evidence.of(c.DATAVERSE_DETAILS, f"TenantId {details.tenant_id}"),)
    if not signed_in_tenant:
        return Finding(
            CheckState.UNKNOWN,
            f"Dataverse is in tenant {details.tenant_id}; dwtui does not know the id of the tenant you "
            "signed in to (the profile names a domain), so it cannot compare them",
            evidence,
            remedy="Put the tenant's GUID in the profile's tenant_id.",
        )
    mine = Evidence(c.TOKEN, "the tenant of your sign-in (tid)", signed_in_tenant, inferred=True)
    if _guid(details.tenant_id) == _guid(signed_in_tenant):
        return Finding(
            CheckState.OK,
            f"one tenant: {signed_in_tenant} (finance and operations taken as your sign-in's; inferred)",
            (*evidence, mine),
            inferred=True,
        )
    return Finding(
        CheckState.PROBLEM,
        f"Dataverse is in tenant {details.tenant_id}, you signed in to {signed_in_tenant}: dual-write "
        "supports no link across tenants",
        (*evidence, mine),
        inferred=True,
    )
