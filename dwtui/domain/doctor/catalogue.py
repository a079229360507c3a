"""The doctor's checks: each one's id, title, where its evidence comes from, and the documented remedy.

The order is the order a person works through: sign-in first, then rights, the environment, Power
Platform Integration, dual-write, and the one-box steps. Ids are stable (JSON keys, scripts match
on them). Every call names the public source that shows it; what no source shows is marked inferred.
"""

from __future__ import annotations

from dwtui.domain.doctor.model import CheckSpec, Group, Source
from dwtui.domain.errors import ADMIN_CONSENT_ROLES

_LEARN = "https://learn.microsoft.com/"
_FO = _LEARN + "dynamics365/fin-ops-core/dev-itpro/"
_DW = _FO + "data-entities/dual-write/"
DOC_CONSENT = _LEARN + "entra/identity/enterprise-apps/grant-admin-consent"
DOC_LCS_AUTH = _FO + "lifecycle-services/lcs-aad-app-reg"
DOC_LCS_METADATA = _FO + "lifecycle-services/api/v1/reference-environment-metadata"
DOC_PPI = _FO + "power-platform/enable-power-platform-integration"
DOC_PPI_NEW_DATAVERSE = _FO + "power-platform/environment-lifecycle-connect-finops-new-dv"
DOC_DW_PREREQUISITES = _DW + "requirements-and-prerequisites"
DOC_DW_LCS_SETUP = _DW + "lcs-setup"
DOC_DW_PACKAGES = _DW + "separated-solutions"
DOC_DW_LINK = _DW + "link-your-environment"
DOC_DW_RESET = _DW + "reset"
DOC_DW_LIVE_SYNC = _DW + "dual-write-troubleshooting-live-sync"
DOC_BAP_LIST = _LEARN + "power-platform/admin/list-environments"
DOC_PP_PACKAGES = _LEARN + "power-platform/admin/programmability-tutorial-install-application-environment"
DOC_WEB_API_FUNCTIONS = _LEARN + "power-apps/developer/data-platform/webapi/use-web-api-functions"
DOC_DWA = "https://github.com/microsoft/Dual-write-automations"
TF_USER = "microsoft/terraform-provider-power-platform internal/services/authorization/api_user.go"
TF_APP_USER = "microsoft/terraform-provider-power-platform internal/services/application/api_application.go"
README_PROFILES = "README.md, Profiles"

# -- the calls evidence comes from ------------------------------------------------------------------

TOKEN = "Microsoft Entra ID"
LCS_DETAIL = Source(
    "LCS API",
    "GET /environmentinfo/v1/detail/project/{projectId}/?environmentId={id} (x-ms-version 2017-09-15)",
    DOC_LCS_METADATA,
)
BAP_ENVIRONMENTS = Source(
    "BAP admin API",
    "GET /providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2023-06-01",
    DOC_BAP_LIST,
)
DATAVERSE_DETAILS = Source(
    "Dataverse", "GET /api/data/v9.2/RetrieveFinanceAndOperationsIntegrationDetails", DOC_PPI
)
DATAVERSE_WHO_AM_I = Source("Dataverse", "GET /api/data/v9.2/WhoAmI", DOC_WEB_API_FUNCTIONS)
DATAVERSE_MY_ROLES = Source(
    "Dataverse",
    "GET /api/data/v9.2/systemusers({UserId})?$expand=systemuserroles_association($select=roleid,name)",
    TF_USER + " (GetDataverseUserBySystemUserId)",
)
PACKAGES = Source(
    "Power Platform API",
    "GET /appmanagement/environments/{environmentId}/applicationPackages?api-version=2022-03-01-preview",
    DOC_PP_PACKAGES,
)
GATEWAY_LINK = Source(
    "dual-write gateway",
    "GET api/DualWriteManagement/1.0/Environments?targetType=AX&identifier={F&O host}, then "
    "GET api/ConnectionSet/{name}",
    DOC_DWA + " (DWLibary/DWEnvCalls.cs)",
)
GATEWAY_MAPS = Source(
    "dual-write gateway",
    "GET api/DualWriteManagement/1.0/Entities?targetType=AX&cid={cid}",
    DOC_DWA + " (DWLibary/DWEnvCalls.cs)",
)
PROFILE = Source("profile", "the profile's settings", README_PROFILES)
APP_USERS = Source(
    "Dataverse",
    "GET /api/data/v9.2/systemusers?$filter=applicationid eq {app id}"
    "&$expand=systemuserroles_association(...) (deletedstate read: soft-deleted users do not count)",
    TF_APP_USER,
)
AXDB_FLIGHT = Source(
    "AXDB",
    "SELECT RECID, PARTITIONKEY FROM PARTITIONS; the flight's SYSFLIGHTING rows (read only, rolled back)",
    DOC_DW_LCS_SETUP + "#configure-app-user-for-one-box-environments",
)
AUDIT_TRAIL = Source(
    "dwtui",
    "this run's Activity log and the audit trail (activity.jsonl): the flight's COMMIT and AOS restarts "
    "dwtui made",
    "README.md, Activity pane",
    inferred=True,
)
APP_WHO_AM_I = Source(
    "Dataverse",
    "GET /api/data/v9.2/WhoAmI signed in as the one-box app (client credentials)",
    DOC_DW_LIVE_SYNC,
)


def token_source(scope: str) -> Source:
    return Source(
        TOKEN,
        f"token for scope {scope}, silently from your sign-in (MSAL acquire_token_silent)",
        DOC_CONSENT,
    )


# -- the checks -------------------------------------------------------------------------------------

SIGNIN_LCS = "signin.lcs"
SIGNIN_BAP = "signin.bap"
SIGNIN_POWER_PLATFORM = "signin.power_platform"
SIGNIN_DATAVERSE = "signin.dataverse"
SIGNIN_GATEWAY = "signin.gateway"
RIGHTS_LCS = "rights.lcs_project"
RIGHTS_POWER_PLATFORM = "rights.power_platform_admin"
RIGHTS_DATAVERSE = "rights.dataverse_admin"
ENVIRONMENT_STATE = "environment.state"
ENVIRONMENT_TYPE = "environment.type"
ENVIRONMENT_VERSION = "environment.version"
INTEGRATION_SETUP = "integration.setup"
INTEGRATION_DATAVERSE = "integration.dataverse"
INTEGRATION_TENANT = "integration.tenant"
DUALWRITE_PACKAGES = "dualwrite.packages"
DUALWRITE_GATEWAY = "dualwrite.gateway_host"
DUALWRITE_LINK = "dualwrite.link"
DUALWRITE_MISMATCH = "dualwrite.mismatch"
DUALWRITE_MAPS = "dualwrite.table_maps"
ONEBOX_APP_ID = "onebox.app_id"
ONEBOX_APP_USER = "onebox.app_user"
ONEBOX_FLIGHT = "onebox.flight"
ONEBOX_AOS = "onebox.aos_restart"
ONEBOX_VERIFY = "onebox.verify"

_CONSENT_REMEDY = (
    f"An administrator ({ADMIN_CONSENT_ROLES}) grants admin consent for the API to the app registration: "
    "App registrations > the app > API permissions > Grant admin consent."
)


def _signin(check_id: str, api: str, scope_text: str) -> CheckSpec:
    return CheckSpec(
        check_id,
        Group.ACCESS,
        f"Sign-in and admin consent: {api}",
        (Source(TOKEN, f"token for scope {scope_text}", DOC_CONSENT),),
        _CONSENT_REMEDY,
        DOC_CONSENT,
        time_limit=60.0,
    )


CATALOGUE: tuple[CheckSpec, ...] = (
    _signin(SIGNIN_LCS, "LCS API", "{lcs_api_url}//.default"),
    _signin(SIGNIN_BAP, "BAP admin API", "https://service.powerapps.com//.default"),
    _signin(SIGNIN_POWER_PLATFORM, "Power Platform API", "https://api.powerplatform.com/.default"),
    _signin(SIGNIN_DATAVERSE, "Dataverse", "{Dataverse URL}/.default"),
    _signin(SIGNIN_GATEWAY, "dual-write gateway", "https://IntegratorApp.com/.default"),
    CheckSpec(
        RIGHTS_LCS,
        Group.RIGHTS,
        "LCS project role able to change the environment",
        (LCS_DETAIL,),
        "A Project Owner adds you to the LCS project as Project Owner or Environment Administrator, "
        "and you accept the invitation.",
        DOC_LCS_METADATA,
        inferred=True,
    ),
    CheckSpec(
        RIGHTS_POWER_PLATFORM,
        Group.RIGHTS,
        "Power Platform administrator",
        (BAP_ENVIRONMENTS,),
        "A Global administrator gives you the Power Platform administrator (or Dynamics 365 "
        "administrator) role in Microsoft Entra ID; a new role can take up to an hour to apply.",
        DOC_PPI_NEW_DATAVERSE,
        inferred=True,
    ),
    CheckSpec(
        RIGHTS_DATAVERSE,
        Group.RIGHTS,
        "Dataverse System Administrator",
        (DATAVERSE_WHO_AM_I, DATAVERSE_MY_ROLES),
        "A System Administrator of the Dataverse environment gives you the System Administrator role "
        "(Power Platform admin center > the environment > Settings > Users + permissions > Users > "
        "Manage security roles).",
        DOC_PPI,
    ),
    CheckSpec(
        ENVIRONMENT_STATE,
        Group.ENVIRONMENT,
        "Environment deployed, not being serviced",
        (LCS_DETAIL,),
        "Wait until LCS shows the environment as Deployed (a servicing operation must finish, a failed "
        "one must be resumed or rolled back in LCS), then run the doctor again.",
        DOC_LCS_METADATA,
    ),
    CheckSpec(
        ENVIRONMENT_TYPE,
        Group.ENVIRONMENT,
        "Environment type (production is read-only unless the profile allows changes)",
        (LCS_DETAIL, PROFILE),
        "dwtui opens production environments read-only: set allow_production_changes = true in the "
        "profile when you mean to change this one.",
        "README.md, Profiles",
    ),
    CheckSpec(
        ENVIRONMENT_VERSION,
        Group.ENVIRONMENT,
        "Finance and operations version against the documented minimums",
        (LCS_DETAIL,),
        "Update the environment in LCS (Maintain > Apply updates) to at least 10.0.9 / Platform update 33, "
        "the minimum dual-write documents.",
        DOC_DW_PREREQUISITES,
    ),
    CheckSpec(
        INTEGRATION_SETUP,
        Group.INTEGRATION,
        "Power Platform Integration set up",
        (BAP_ENVIRONMENTS, DATAVERSE_DETAILS),
        "Set up Power Platform Integration in LCS (Environment details > Power Platform Integration > "
        "Setup).",
        DOC_PPI,
    ),
    CheckSpec(
        INTEGRATION_DATAVERSE,
        Group.INTEGRATION,
        "Dataverse present and ready, and its version",
        (BAP_ENVIRONMENTS,),
        "Wait until the Power Platform admin center shows the environment's Dataverse as Ready; if it "
        "stays otherwise, open the environment there for its state.",
        DOC_PPI,
    ),
    CheckSpec(
        INTEGRATION_TENANT,
        Group.INTEGRATION,
        "Finance and operations and Dataverse in the same tenant",
        (DATAVERSE_DETAILS,),
        "Dual-write supports only a finance and operations environment and a Dataverse in the same "
        "Microsoft Entra tenant: integrate the environment with a Dataverse of this tenant.",
        DOC_DW_PREREQUISITES,
    ),
    CheckSpec(
        DUALWRITE_PACKAGES,
        Group.DUAL_WRITE,
        "Dual-write packages and their dependencies",
        (PACKAGES,),
        "Install the failed or missing packages again in dependency order (press d, or dwtui setup); "
        "the package's install history is in the Power Platform admin center > the environment > "
        "Resources > Dynamics 365 apps.",
        DOC_DW_PACKAGES,
    ),
    CheckSpec(
        DUALWRITE_GATEWAY,
        Group.DUAL_WRITE,
        "Dual-write gateway host known",
        (PROFILE,),
        "Find the gateway's host as Microsoft's Dual-write automations tool does and set "
        "dualwrite_gateway_url in the profile.",
        DOC_DWA,
    ),
    CheckSpec(
        DUALWRITE_LINK,
        Group.DUAL_WRITE,
        "Link to the Power Platform environment",
        (GATEWAY_LINK,),
        "Fix what the link failure names, then link again (press l, or the dual-write wizard in finance "
        "and operations).",
        DOC_DW_LCS_SETUP,
    ),
    CheckSpec(
        DUALWRITE_MISMATCH,
        Group.DUAL_WRITE,
        "Linking mismatch",
        (BAP_ENVIRONMENTS, GATEWAY_LINK),
        "Reset the dual-write connection to the Dataverse Power Platform Integration names (press R, or "
        "dwtui reset); if Power Platform Integration was never set up, set it up with the Dataverse "
        "dual-write uses.",
        DOC_DW_LCS_SETUP + "#linking-mismatch",
        inferred=True,
    ),
    CheckSpec(
        DUALWRITE_MAPS,
        Group.DUAL_WRITE,
        "Running table maps (what a reset would stop)",
        (GATEWAY_MAPS,),
        "A reset needs every map stopped: stop them in Workspaces > Data management > Dual Write, or "
        "reset with Force Reset (dwtui reset --force), which stops them.",
        DOC_DW_RESET,
    ),
    CheckSpec(
        ONEBOX_APP_ID,
        Group.ONEBOX,
        "One-box app registration id known",
        (PROFILE,),
        "Give the Application (client) ID of the app registered for the one-box (--app-id).",
        DOC_DW_LCS_SETUP + "#configure-app-user-for-one-box-environments",
    ),
    CheckSpec(
        ONEBOX_APP_USER,
        Group.ONEBOX,
        "One-box application user present with a security role",
        (APP_USERS,),
        "Create the application user in the root business unit with a role such as System "
        "Administrator (press o, step 1, or dwtui onebox app-user).",
        DOC_DW_LCS_SETUP + "#configure-app-user-for-one-box-environments",
    ),
    CheckSpec(
        ONEBOX_FLIGHT,
        Group.ONEBOX,
        "Flight DualWriteUnoAuthenticationFnoToCds on every partition of AXDB",
        (AXDB_FLIGHT,),
        "Enable the flight on every partition (press o, step 2, or dwtui onebox flight --run), then "
        "restart the AOS.",
        DOC_DW_LCS_SETUP + "#configure-app-user-for-one-box-environments",
        time_limit=45.0,
    ),
    CheckSpec(
        ONEBOX_AOS,
        Group.ONEBOX,
        "AOS restarted since the flight was enabled",
        (AUDIT_TRAIL,),
        "Restart the AOS (press o, step 3, or dwtui onebox restart-aos) so that it loads the flight.",
        DOC_DW_LCS_SETUP + "#configure-app-user-for-one-box-environments",
        inferred=True,
    ),
    CheckSpec(
        ONEBOX_VERIFY,
        Group.ONEBOX,
        "One-box verification (Dataverse accepts the app)",
        (APP_WHO_AM_I, APP_USERS),
        "Do the missing step the verification names (press o, or dwtui onebox verify).",
        DOC_DW_LIVE_SYNC,
    ),
)
BY_ID: dict[str, CheckSpec] = {spec.check_id: spec for spec in CATALOGUE}
