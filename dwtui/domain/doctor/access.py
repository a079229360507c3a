"""Sign-in and consent per API, and the rights the documented procedure asks of the person.

Consent faults are classified where tokens are refused (dwtui.domain.token_refusals): a refused token
for want of admin consent (AADSTS65001) names the API, the scope and the admin-consent URL.

Rights, as far as public sources let them be read:
- LCS project role: no LCS API returns a person's role. reference-environment-metadata.md says the
  API answers a delegated user who is Project Owner or Environment Administrator in the project, so
  an answer naming the environment is taken as that role [I].
- Power Platform administrator: no API dwtui may call returns Entra roles. The BAP admin scope
  (`scopes/admin/environments`) is the administrators' view of the tenant's environments (CLI for
  Microsoft 365 `pp environment list --asAdmin`); that it refuses other people (403) is inferred.
- Dataverse System Administrator: WhoAmI names the person's systemuser, whose directly assigned roles
  are read as terraform-provider-power-platform reads a user's (GetDataverseUserBySystemUserId).
  Roles held through a team are not read.
"""

from __future__ import annotations

from collections.abc import Sequence

from dwtui.domain.appuser import DEFAULT_ROLE, SecurityRole
from dwtui.domain.doctor import catalogue as c
from dwtui.domain.doctor.common import could_not_read, fault_evidence, fault_text, is_transient, short
from dwtui.domain.doctor.model import CheckState, Evidence, Finding
from dwtui.domain.errors import explain
from dwtui.domain.models import DataverseEnvironment, Fault, LcsEnvironment
from dwtui.domain.token_refusals import CONSENT_REQUIRED, DELEGATED_ONLY

SIGN_IN_REQUIRED = "sign_in_required"
SYSTEM_ADMINISTRATOR = DEFAULT_ROLE
NOT_MEMBER = "0x80072560"


def token(api: str, scope: str, fault: Fault | None) -> Finding:
    """Whether Microsoft Entra ID gives a token for `scope` to the signed-in person (or app)."""
    source = c.token_source(scope)
    if fault is None:
        return Finding(
            CheckState.OK,
            f"signed in; a token for the {api} was issued",
            (Evidence.of(source, "token issued"),),
        )
    evidence = (fault_evidence(source, fault),)
    explanation = explain(fault)
    if fault.code == CONSENT_REQUIRED:
        return Finding(
            CheckState.PROBLEM,
            f"no admin consent for the {api}: the app may not ask for scope {scope}",
            evidence,
            remedy=explanation.remedy,
            doc=explanation.doc,
        )
    if fault.code == DELEGATED_ONLY:
        return Finding(
            CheckState.PROBLEM,
            f"the {api} accepts only a person's sign-in, and this profile signs in as an application",
            evidence,
            remedy=explanation.remedy,
            doc=explanation.doc,
        )
    if fault.code == SIGN_IN_REQUIRED:
        return Finding(
            CheckState.PROBLEM,
            f"no token for the {api} without a new sign-in: {fault.message}",
            evidence,
            remedy="Sign in again (run dwtui without --no-interactive, or press r in the TUI).",
        )
    if is_transient(fault):
        return could_not_read(f"a token for the {api}", fault, source)
    return Finding(
        CheckState.PROBLEM,
        short(f"Microsoft Entra ID refused a token for the {api}: {fault_text(fault)}"),
        evidence,
        remedy=explanation.remedy,
        doc=explanation.doc,
    )


def lcs_role(environment: LcsEnvironment | Fault) -> Finding:
    if isinstance(environment, LcsEnvironment):
        return Finding(
            CheckState.OK,
            f"LCS shows you {environment.name}: its API answers a Project Owner or Environment "
            "Administrator of the project (the role itself is not readable; inferred)",
            (
                Evidence.of(
                    c.LCS_DETAIL,
                    f"environment {environment.name} ({environment.environment_id})",
                    inferred=True,
                ),
            ),
            inferred=True,
        )
    if is_transient(environment) or environment.service != c.LCS_DETAIL.service:
        return could_not_read("the LCS environment", environment, c.LCS_DETAIL)
    # LCS answered, and refused: no access to the project, or no environment you may see [I].
    return Finding(
        CheckState.PROBLEM,
        short(f"LCS does not show you the environment: {fault_text(environment)}"),
        (fault_evidence(c.LCS_DETAIL, environment),),
        inferred=True,
    )


def power_platform_admin(listed: DataverseEnvironment | Fault | None, count: int | None = None) -> Finding:
    """`listed` is what the admin-scope environment list gave for this environment (None: not in it)."""
    if isinstance(listed, Fault):
        if listed.http_status in (401, 403):
            return Finding(
                CheckState.PROBLEM,
                short(
                    "the BAP admin scope refused you, so you are probably not a Power Platform "
                    f"administrator (inferred): {fault_text(listed)}"
                ),
                (fault_evidence(c.BAP_ENVIRONMENTS, listed),),
                inferred=True,
            )
        return could_not_read("the Power Platform environments (admin scope)", listed, c.BAP_ENVIRONMENTS)
    answered = f"{count} environment(s) listed" if count is not None else "the list answered"
    return Finding(
        CheckState.OK,
        "the BAP admin scope lists the tenant's environments for you, as it does for Power Platform "
        "administrators (inferred)",
        (Evidence.of(c.BAP_ENVIRONMENTS, answered, inferred=True),),
        inferred=True,
    )


def dataverse_admin(
    dataverse: DataverseEnvironment | None,
    roles: Sequence[SecurityRole] | Fault | None,
    user_id: str = "",
) -> Finding:
    """`roles`: the person's directly assigned roles in the Dataverse Power Platform Integration names."""
    if dataverse is None or not dataverse.instance_url:
        return Finding(CheckState.NOT_APPLICABLE, "no Dataverse yet (see Power Platform Integration)")
    if isinstance(roles, Fault):
        if roles.code.lower() == NOT_MEMBER:
            return Finding(
                CheckState.PROBLEM,
                f"you are not a user of the Dataverse {dataverse.instance_url} ({NOT_MEMBER}: "
                "The user is not a member of the organization)",
                (fault_evidence(c.DATAVERSE_WHO_AM_I, roles),),
            )
        if roles.http_status == 403:
            return Finding(
                CheckState.PROBLEM,
                short(f"Dataverse refused to show your own roles: {fault_text(roles)}"),
                (fault_evidence(c.DATAVERSE_MY_ROLES, roles),),
            )
        return could_not_read("your roles in Dataverse", roles, c.DATAVERSE_MY_ROLES)
    if roles is None:
        return Finding(CheckState.UNKNOWN, "your roles in Dataverse were not read")
    names = sorted({role.name for role in roles}, key=str.lower)
    evidence = (
        Evidence.of(c.DATAVERSE_WHO_AM_I, f"UserId {user_id}" if user_id else "answered"),
        Evidence.of(c.DATAVERSE_MY_ROLES, "roles: " + (", ".join(names) or "none")),
    )
    if any(name.lower() == SYSTEM_ADMINISTRATOR.lower() for name in names):
        return Finding(CheckState.OK, f"you are {SYSTEM_ADMINISTRATOR} in {dataverse.instance_url}", evidence)
    held = ", ".join(names) or "no role"
    return Finding(
        CheckState.PROBLEM,
        f"you are not {SYSTEM_ADMINISTRATOR} in {dataverse.instance_url} (your roles: {held}; roles "
        "held through a team are not read)",
        evidence,
    )
