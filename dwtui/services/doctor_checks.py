"""Each check of the doctor's catalogue, wired: which reads it needs, then its pure judgement.

A read that fails becomes part of the judgement where the fault is the finding (a refused token, a
403 from the admin scope); otherwise it propagates and the runner reports the check as unknown,
naming what could not be read.
"""

from __future__ import annotations

from collections.abc import Callable

from dwtui.domain.appuser import validate_app_id
from dwtui.domain.doctor import access, dualwrite, environment, integration, onebox
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.common import could_not_read
from dwtui.domain.doctor.model import CheckState, Finding
from dwtui.domain.gateway import how_to_find
from dwtui.domain.models import DataverseEnvironment, Fault
from dwtui.domain.onebox import OneboxFacts
from dwtui.domain.profile import BAP_SCOPE, DUALWRITE_SCOPE, POWER_PLATFORM_SCOPE, dataverse_scope
from dwtui.domain.token_refusals import lcs_refusal
from dwtui.services.doctor_reads import Reads, attempt

Judge = Callable[[Reads], Finding]


# -- sign-in and consent ------------------------------------------------------------------------------


def _token(reads: Reads, api: str, scope: str) -> Finding:
    result = attempt(lambda: reads.token(scope))
    return access.token(api, scope, result if isinstance(result, Fault) else None)


def signin_lcs(reads: Reads) -> Finding:
    profile = reads.session.profile
    refusal = lcs_refusal(profile)
    if refusal is not None:
        return access.token("LCS API", profile.lcs_scope, refusal)
    return _token(reads, "LCS API", profile.lcs_scope)


def signin_bap(reads: Reads) -> Finding:
    return _token(reads, "BAP admin API", BAP_SCOPE)


def signin_power_platform(reads: Reads) -> Finding:
    return _token(reads, "Power Platform API", POWER_PLATFORM_SCOPE)


def signin_dataverse(reads: Reads) -> Finding:
    dataverse = attempt(reads.dataverse)
    if isinstance(dataverse, Fault):
        return could_not_read("which Dataverse to ask a token for", dataverse, c.BAP_ENVIRONMENTS)
    if dataverse is None or not dataverse.instance_url:
        return Finding(CheckState.NOT_APPLICABLE, "no Dataverse yet (see Power Platform Integration)")
    return _token(reads, "Dataverse", dataverse_scope(dataverse.instance_url))


def signin_gateway(reads: Reads) -> Finding:
    return _token(reads, "dual-write gateway", DUALWRITE_SCOPE)


# -- rights -----------------------------------------------------------------------------------------------


def rights_lcs(reads: Reads) -> Finding:
    return access.lcs_role(attempt(reads.environment))


def rights_power_platform(reads: Reads) -> Finding:
    reads.environment()
    return access.power_platform_admin(attempt(reads.dataverse))


def rights_dataverse(reads: Reads) -> Finding:
    dataverse = reads.dataverse()
    if dataverse is None or not dataverse.instance_url:
        return access.dataverse_admin(dataverse, None)
    mine = attempt(reads.my_roles)
    if isinstance(mine, Fault):
        return access.dataverse_admin(dataverse, mine)
    user_id, roles = mine
    return access.dataverse_admin(dataverse, roles, user_id)


# -- the environment --------------------------------------------------------------------------------------


def environment_state(reads: Reads) -> Finding:
    return environment.deployment(reads.environment())


def environment_type(reads: Reads) -> Finding:
    return environment.environment_type(reads.environment(), reads.session.profile.allow_production_changes)


def environment_version(reads: Reads) -> Finding:
    return environment.version(reads.environment())


# -- Power Platform Integration ------------------------------------------------------------------------


def integration_setup(reads: Reads) -> Finding:
    found = reads.environment()
    dataverse = attempt(reads.dataverse)
    details = attempt(reads.integration) if _has_dataverse(dataverse) else None
    return integration.setup(found, dataverse, details)


def integration_dataverse(reads: Reads) -> Finding:
    reads.environment()
    return integration.dataverse_ready(attempt(reads.dataverse))


def integration_tenant(reads: Reads) -> Finding:
    reads.environment()
    dataverse = attempt(reads.dataverse)
    details = attempt(reads.integration) if _has_dataverse(dataverse) else None
    return integration.tenant(dataverse, details, reads.session.signed_in_tenant())


def _has_dataverse(dataverse: DataverseEnvironment | Fault | None) -> bool:
    return isinstance(dataverse, DataverseEnvironment) and bool(dataverse.instance_url)


# -- dual-write ---------------------------------------------------------------------------------------------


def dualwrite_packages(reads: Reads) -> Finding:
    reads.environment()
    dataverse = attempt(reads.dataverse)
    listed = attempt(reads.packages) if _has_dataverse(dataverse) else None
    return dualwrite.packages(dataverse, listed)


def dualwrite_gateway(reads: Reads) -> Finding:
    session = reads.session
    found = attempt(reads.environment)
    fo_url = "" if isinstance(found, Fault) else found.fo_url
    dataverse = attempt(reads.dataverse) if fo_url else None
    cluster = dataverse.cluster_uri_suffix if isinstance(dataverse, DataverseEnvironment) else ""
    return dualwrite.gateway_host(
        session.profile.dualwrite_gateway_url,
        simulator=session.gateway_is_simulator,
        how_to_find=how_to_find(fo_url, cluster) if fo_url else "",
    )


def dualwrite_link(reads: Reads) -> Finding:
    found = reads.environment()
    return dualwrite.link(found, attempt(reads.link))


def _mismatch(reads: Reads) -> Finding:
    found = reads.environment()
    link = attempt(reads.link)
    if not isinstance(link, Fault) and link is not None and link.linked:
        return dualwrite.mismatch(found, attempt(reads.dataverse), link, reads.link_integration())
    return dualwrite.mismatch(found, None, link)


def dualwrite_mismatch(reads: Reads) -> Finding:
    return _mismatch(reads)


def dualwrite_maps(reads: Reads) -> Finding:
    reads.environment()
    link = attempt(reads.link)
    if isinstance(link, Fault) or link is None or not link.linked:
        return dualwrite.table_maps(link, None, mismatch=False)
    running = attempt(reads.running_maps)
    found = _mismatch(reads).state is CheckState.PROBLEM
    return dualwrite.table_maps(link, running, mismatch=found)


# -- the one-box ---------------------------------------------------------------------------------------------


def _app_id(reads: Reads) -> tuple[str, str, str]:
    """(app id, where from, why it cannot be used)."""
    given, where = reads.onebox_app_id()
    if not given:
        return "", "", ""
    try:
        return validate_app_id(given), where, ""
    except ValueError as error:
        return given, where, str(error)


def onebox_app_id(reads: Reads) -> Finding:
    application_id, where, problem = _app_id(reads)
    return onebox.app_id(reads.environment(), application_id, where, problem)


def _usable_app_id(reads: Reads) -> str:
    application_id, _, problem = _app_id(reads)
    return "" if problem else application_id


def onebox_app_user(reads: Reads) -> Finding:
    found = reads.environment()
    if not found.is_onebox:
        return onebox.app_user(found, None, "", None)
    dataverse = attempt(reads.dataverse)
    application_id = _usable_app_id(reads)
    lookup = (
        attempt(lambda: reads.app_user(application_id))
        if application_id and _has_dataverse(dataverse)
        else None
    )
    return onebox.app_user(found, dataverse, application_id, lookup)


def _flight_ok(reads: Reads) -> bool | None:
    if not reads.axdb_connection():
        return None
    check = attempt(reads.flight)
    return None if isinstance(check, Fault) else check.ok


def onebox_flight(reads: Reads) -> Finding:
    found = reads.environment()
    if not found.is_onebox or not reads.axdb_connection():
        return onebox.flight(found, None)
    return onebox.flight(found, attempt(reads.flight))


def onebox_aos(reads: Reads) -> Finding:
    found = reads.environment()
    if not found.is_onebox:
        return onebox.aos_restart(found, onebox.OneboxHistory(), None)
    history = onebox.history_from(reads.activity_records())
    return onebox.aos_restart(found, history, _flight_ok(reads))


def onebox_verify(reads: Reads) -> Finding:
    found = reads.environment()
    if not found.is_onebox:
        return onebox.verification(found, None, "", None, None)
    dataverse = attempt(reads.dataverse)
    application_id = _usable_app_id(reads)
    if not application_id or not _has_dataverse(dataverse):
        return onebox.verification(found, dataverse, application_id, None, None)
    flight_ok = _flight_ok(reads)
    history = onebox.history_from(reads.activity_records())
    restarted = onebox.aos_restart(found, history, flight_ok).state
    facts = OneboxFacts(
        flight_enabled=flight_ok,
        aos_restarted_after_flight=None
        if restarted in (CheckState.UNKNOWN, CheckState.NOT_APPLICABLE)
        else restarted is CheckState.OK,
    )
    result = reads.verify(application_id, facts)
    return onebox.verification(found, dataverse, application_id, result.verdict, result.fault)


JUDGES: dict[str, Judge] = {
    c.SIGNIN_LCS: signin_lcs,
    c.SIGNIN_BAP: signin_bap,
    c.SIGNIN_POWER_PLATFORM: signin_power_platform,
    c.SIGNIN_DATAVERSE: signin_dataverse,
    c.SIGNIN_GATEWAY: signin_gateway,
    c.RIGHTS_LCS: rights_lcs,
    c.RIGHTS_POWER_PLATFORM: rights_power_platform,
    c.RIGHTS_DATAVERSE: rights_dataverse,
    c.ENVIRONMENT_STATE: environment_state,
    c.ENVIRONMENT_TYPE: environment_type,
    c.ENVIRONMENT_VERSION: environment_version,
    c.INTEGRATION_SETUP: integration_setup,
    c.INTEGRATION_DATAVERSE: integration_dataverse,
    c.INTEGRATION_TENANT: integration_tenant,
    c.DUALWRITE_PACKAGES: dualwrite_packages,
    c.DUALWRITE_GATEWAY: dualwrite_gateway,
    c.DUALWRITE_LINK: dualwrite_link,
    c.DUALWRITE_MISMATCH: dualwrite_mismatch,
    c.DUALWRITE_MAPS: dualwrite_maps,
    c.ONEBOX_APP_ID: onebox_app_id,
    c.ONEBOX_APP_USER: onebox_app_user,
    c.ONEBOX_FLIGHT: onebox_flight,
    c.ONEBOX_AOS: onebox_aos,
    c.ONEBOX_VERIFY: onebox_verify,
}
