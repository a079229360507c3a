"""What dwtui knows about an environment, as plain immutable data.

Each class mirrors one real service's answer, trimmed to what a screen or a decision needs;
the field comments name the JSON property it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class LcsEnvironment:
    """One item of LCS `environmentinfo/v1/detail` `Data[]`."""

    environment_id: str  # EnvironmentId (opaque: 32 hex or a hyphenated GUID)
    name: str  # EnvironmentName
    project_id: str  # ProjectId
    environment_type: str  # EnvironmentType: Production | Sandbox | DevTestDev | ...
    fo_url: str  # EnvironmentEndpointBaseUrl
    deployment_state: str = ""  # DeploymentState, e.g. Finished
    deployment_status: str = ""  # DeploymentStatusDisplay, e.g. Deployed
    infrastructure: str = ""  # EnvironmentInfrastructure: SelfService | MicrosoftManaged
    group: str = ""  # EnvironmentGroup: Primary | DisasterRecovery
    product: str = ""  # EnvironmentProduct
    topology: str = ""  # TopologyDisplayName
    application_version: str = ""  # CurrentApplicationBuildVersion
    application_release: str = ""  # CurrentApplicationReleaseName
    platform_release: str = ""  # CurrentPlatformReleaseName
    platform_version: str = ""  # CurrentPlatformVersion
    deployed_on_utc: str = ""  # DeployedOnUTC, as LCS formats it
    storage_location: str = ""  # CloudStorageLocation
    disaster_recovery_location: str = ""  # DisasterRecoveryLocation

    @property
    def state_text(self) -> str:
        """The environment's state, in the one order every screen and command shows it: the word
        LCS displays for the environment first (DeploymentStatusDisplay: Deployed, Failed), then the
        state of its last deployment (DeploymentState: Finished), e.g. "Deployed / Finished"."""
        return " / ".join(part for part in (self.deployment_status, self.deployment_state) if part)

    @property
    def is_production(self) -> bool:
        return self.environment_type.strip().lower() == "production"

    @property
    def is_onebox(self) -> bool:
        # LCS calls cloud-hosted one-box VMs "DevTestDev"; d365bap.tools classifies by the
        # axcloud/cloudax host instead. Either is enough.
        host = self.fo_url.lower()
        return self.environment_type.strip().lower() in {"devtestdev", "dev", "development"} or (
            "axcloud" in host or "cloudax" in host
        )


@dataclass(frozen=True, slots=True)
class DataverseEnvironment:
    """A Power Platform environment from the BAP admin API, with its Dataverse org.

    `linked_fo_*` come from `properties.linkedAppMetadata`: present only when Power Platform
    Integration links this Dataverse to a finance and operations environment.
    """

    bap_environment_id: str  # name
    display_name: str  # properties.displayName
    instance_url: str  # properties.linkedEnvironmentMetadata.instanceUrl
    organization_id: str = ""  # linkedEnvironmentMetadata.resourceId
    unique_name: str = ""  # linkedEnvironmentMetadata.uniqueName
    instance_state: str = ""  # linkedEnvironmentMetadata.instanceState, e.g. Ready
    version: str = ""  # linkedEnvironmentMetadata.version
    region: str = ""  # properties.azureRegion
    sku: str = ""  # properties.environmentSku
    linked_fo_environment_id: str = ""  # linkedAppMetadata.id (the LCS environment id)
    linked_fo_url: str = ""  # linkedAppMetadata.url
    linked_app_type: str = ""  # linkedAppMetadata.type: Linked | Internal
    cluster_uri_suffix: str = ""  # properties.cluster.uriSuffix, e.g. eu-il107.gateway.prod.island
    provisioning_state: str = ""  # properties.provisioningState, e.g. LinkedDatabaseProvisioning


@dataclass(frozen=True, slots=True)
class IntegrationDetails:
    """Dataverse `RetrieveFinanceAndOperationsIntegrationDetails`: the F&O environment it serves."""

    fo_url: str  # Url
    tenant_id: str  # TenantId
    fo_environment_id: str  # Id


class PackageState(StrEnum):
    """Power Platform API `applicationPackages[].state`, plus what an install operation tells us."""

    NOT_INSTALLED = "None"
    INSTALLED = "Installed"
    INSTALL_FAILED = "InstallFailed"
    INSTALLING = "Installing"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class ApplicationPackage:
    """One item of `appmanagement/environments/{env}/applicationPackages` `value[]`."""

    unique_name: str  # uniqueName, e.g. DualWriteCoreAnchor
    application_name: str  # applicationName / localizedName
    version: str  # version
    state: PackageState  # state
    package_id: str = ""  # id
    error: str = ""  # errorDetails, flattened


@dataclass(frozen=True, slots=True)
class LegalEntityMapping:
    fo_company: str  # dualWriteDetail.legalEntityMappings.mappings[].left.name
    dataverse_company: str  # ...right.name


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """[I] A link request as the connection set lists it: an item of DWHelper's
    `dualWriteDetail.solutionAwareRequests` {requestId, action, createdOn, modifiedOn, state,
    result:{message, status}}. That a link request is listed there is inferred (no source shows it).
    """

    request_id: str  # requestId
    state: str  # state: DWHelper's RequestStatus "1" Waiting, "2" Completed, "3" Error
    message: str = ""  # result.message
    code: str = ""  # [I] result.code, when the gateway sends one
    created_on: str = ""  # createdOn (ISO 8601)

    @property
    def running(self) -> bool:
        return self.state not in ("2", "3")

    @property
    def failed(self) -> bool:
        return self.state == "3"


@dataclass(frozen=True, slots=True)
class DualWriteLink:
    """What the dual-write gateway says about an F&O environment.

    `linked` is False when `Environments?targetType=AX&identifier=` returns no item with a `cid`,
    and [I] while the connection set's newest link request is still running (`linking`) or failed.
    """

    linked: bool
    connection_set_id: str = ""  # cid
    connection_set_name: str = ""  # cname
    dataverse_url: str = ""  # the CRM/CDS environment's directUrl in the connection set
    dataverse_name: str = ""  # its environmentDisplayName
    power_apps_environment_id: str = ""  # powerAppsEnvironment
    fo_url: str = ""  # the AX environment's directUrl
    legal_entities: tuple[LegalEntityMapping, ...] = ()
    linking: bool = False  # [I] the connection set's link request is still running
    request: LinkRequest | None = None  # [I] the newest link request the connection set lists


@dataclass(frozen=True, slots=True)
class Fault:
    """A service call that did not give an answer, in terms a person can act on.

    `code` is the service's own code when it gave one (DW9003, 0x80048d0b, invalid_client, HTTP 429, ...).
    `remedy`, when set, is what to do about this very fault (an admin-consent URL for this tenant and
    app, say); it stands in for the error catalogue's general remedy for the code.
    """

    service: (
        str  # "LCS API", "BAP admin API", "Dataverse", "Power Platform API", "dual-write gateway", "sign-in"
    )
    message: str
    code: str = ""
    http_status: int | None = None
    retry_after: float | None = None
    url: str = ""  # already redacted
    remedy: str = ""


@dataclass(frozen=True, slots=True)
class SignedIn:
    username: str  # preferred_username for a person, the client id for an application
    tenant_id: str
    kind: str = "user"  # user | app


@dataclass(frozen=True, slots=True)
class DeviceCodePrompt:
    """What a person needs to finish a device-code sign-in on another device."""

    verification_uri: str
    user_code: str
    expires_at: float  # time.time() based
    message: str = ""


@dataclass(frozen=True, slots=True)
class PowerPlatformSnapshot:
    """Everything read for the Power Platform Integration pane; each part is a value or a Fault.

    `dataverse` is None when no Power Platform environment is linked to this F&O environment
    (Power Platform Integration not set up). `integration` is None when there was no Dataverse
    to ask, and a Fault with code 0x80048d0b when Dataverse says it is not integrated.
    """

    dataverse: DataverseEnvironment | Fault | None
    integration: IntegrationDetails | Fault | None
    packages: tuple[ApplicationPackage, ...] | Fault | None
    link: DualWriteLink | Fault | None
    # The Dataverse that the dual-write connection set names, asked for its own integration
    # details, so a mismatch can be explained even when BAP names no Dataverse.
    link_dataverse_integration: IntegrationDetails | Fault | None = None
    read_at: float = 0.0  # time.time() when the snapshot was completed
    extras: dict[str, str] = field(default_factory=dict)
