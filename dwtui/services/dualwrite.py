"""The dual-write management gateway (undocumented; as Microsoft's Dual-write automations use it).

The link state comes from `Environments?targetType=AX&identifier={F&O host}`: an item with a
`cid` means linked. The connection set it names holds the Dataverse dual-write writes to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from dwtui.domain.models import DualWriteLink, Fault, LegalEntityMapping
from dwtui.services.errors import ServiceError
from dwtui.services.http import HttpPolicy, expect_dict, expect_list, optional_dict, text

SERVICE = "dual-write gateway"
HEADERS = {"Accept": "application/json"}


def fo_identifier(fo_url: str) -> str:
    """The F&O host alone, as the gateway wants it: no scheme, no port, no slash."""
    value = fo_url.strip()
    if not value:
        return ""
    try:
        host = urlsplit(value if "://" in value else f"https://{value}").hostname or ""
    except ValueError:
        return ""
    return host.lower()


def _is_dataverse(target_type: str) -> bool:
    kind = target_type.strip().upper()
    return kind == "CRM" or "CDS" in kind


class DualWriteGateway:
    def __init__(self, base_url: str, http: HttpPolicy, token: Callable[[], str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.token = token

    def link(self, fo_url: str) -> DualWriteLink:
        identifier = fo_identifier(fo_url)
        if not identifier:
            raise ServiceError(
                Fault(
                    SERVICE,
                    f"cannot ask for the link state: {fo_url!r} is not a finance and operations URL",
                    code="no_fo_url",
                )
            )
        url = f"{self.base_url}/api/DualWriteManagement/1.0/Environments"
        body = self.http.get_json(
            SERVICE, url, token=self.token(), params={"targetType": "AX", "identifier": identifier},
            headers=HEADERS,
        )
        items = expect_list(SERVICE, body, "the Environments answer", url)
        if not items:
            return DualWriteLink(linked=False)
        first = expect_dict(SERVICE, items[0], "an item of the Environments answer", url)
        cid = text(SERVICE, first.get("cid"), "cid", url).strip()
        if not cid:
            return DualWriteLink(linked=False)
        cname = text(SERVICE, first.get("cname"), "cname", url).strip() or cid
        listed = text(SERVICE, first.get("powerAppsEnvironment"), "powerAppsEnvironment", url).strip()
        return self._connection_set(cid, cname, listed)

    def _connection_set(self, cid: str, cname: str, listed_power_apps: str) -> DualWriteLink:
        url = f"{self.base_url}/api/ConnectionSet/{quote(cname, safe='')}"
        body = expect_dict(
            SERVICE, self.http.get_json(SERVICE, url, token=self.token(), headers=HEADERS),
            "the connection set", url,
        )
        environments = body.get("environments")
        if environments is None:
            members: list[Any] = []
        elif isinstance(environments, Mapping):
            members = list(environments.values())
        else:
            members = expect_list(SERVICE, environments, "environments", url)
        dataverse: Mapping[str, Any] = {}
        fo: Mapping[str, Any] = {}
        for member in members:
            environment = expect_dict(SERVICE, member, "an item of environments", url)
            target = text(SERVICE, environment.get("targetType"), "targetType", url)
            if _is_dataverse(target) and not dataverse:
                dataverse = environment
            elif target.strip().upper() == "AX" and not fo:
                fo = environment

        def field(source: Mapping[str, Any], key: str) -> str:
            return text(SERVICE, source.get(key), key, url).strip()

        return DualWriteLink(
            linked=True,
            connection_set_id=cid,
            connection_set_name=cname,
            dataverse_url=field(dataverse, "directUrl"),
            dataverse_name=field(dataverse, "environmentDisplayName"),
            power_apps_environment_id=field(dataverse, "powerAppsEnvironment") or listed_power_apps,
            fo_url=field(fo, "directUrl"),
            legal_entities=_legal_entities(body, url),
        )


def _legal_entities(body: Mapping[str, Any], url: str) -> tuple[LegalEntityMapping, ...]:
    detail = optional_dict(SERVICE, body.get("dualWriteDetail"), "dualWriteDetail", url)
    mappings = optional_dict(SERVICE, detail.get("legalEntityMappings"), "legalEntityMappings", url)
    raw = mappings.get("mappings")
    items = [] if raw is None else expect_list(SERVICE, raw, "legalEntityMappings.mappings", url)
    result = []
    for item in items:
        mapping = expect_dict(SERVICE, item, "a legal entity mapping", url)
        left = optional_dict(SERVICE, mapping.get("left"), "left", url)
        right = optional_dict(SERVICE, mapping.get("right"), "right", url)
        result.append(
            LegalEntityMapping(
                fo_company=text(SERVICE, left.get("name"), "left.name", url).strip(),
                dataverse_company=text(SERVICE, right.get("name"), "right.name", url).strip(),
            )
        )
    return tuple(result)
