"""README's "From zero to a real tenant": it is there, and it names what the code tells an admin to add.

The consent remedy (domain/token_refusals.py) names, for each API, the entry to add in the Entra
admin center; the walkthrough must name the same ones, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dwtui.domain import token_refusals
from dwtui.domain.profile import (
    BAP_SCOPE,
    DUALWRITE_SCOPE,
    POWER_PLATFORM_SCOPE,
    dataverse_scope,
    parse_profile,
)
from dwtui.domain.token_refusals import Api, admin_consent_url, api_of

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## From zero to a real tenant"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TENANT = "contoso.onmicrosoft.com"
CLIENT = "4f7d2c1a-9e3b-4a8d-b6c5-1e0f2a3b4c5d"


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def section() -> str:
    text = readme()
    start = text.index(f"\n{HEADING}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def words(text: str) -> str:
    """The text with every run of whitespace as one space: README wraps its lines anywhere."""
    return " ".join(text.split())


def apis() -> list[Api]:
    return [value for value in vars(token_refusals).values() if isinstance(value, Api)]


def portal_words(permission: str) -> list[str]:
    """What an admin looks for in the portal: the API's name, its app id and the permission."""
    name = re.split(r" \(| \[", permission, maxsplit=1)[0].removeprefix("for ").strip()
    words = [name, *GUID.findall(permission)]
    return words + [word for word in ("user_impersonation",) if word in permission]


def test_the_section_sits_between_profiles_and_secrets() -> None:
    headings = re.findall(r"^## (.+)$", readme(), flags=re.MULTILINE)
    at = headings.index(HEADING.removeprefix("## "))
    assert headings[at - 1 : at + 2] == ["Profiles", HEADING.removeprefix("## "), "Secrets and the keyring"]


def test_the_section_walks_from_registration_to_the_doctor() -> None:
    text = words(section())
    steps = [
        "New registration",
        "Accounts in this organizational directory only",
        "Allow public client flows",
        "Add a permission",
        "Grant admin consent for",
        "dwtui profiles add",
        "dwtui doctor --profile",
    ]
    found = [text.find(step) for step in steps]
    assert -1 not in found, [step for step, at in zip(steps, found, strict=True) if at == -1]
    assert found == sorted(found), "the steps are out of order"
    assert "(#doctor)" in text and "(#exit-codes)" in text


@pytest.mark.parametrize("api", apis(), ids=lambda api: api.name)
def test_every_permission_the_consent_remedy_names_is_in_the_section(api: Api) -> None:
    text = words(section())
    assert [word for word in portal_words(api.permission) if word not in text] == []


def test_every_api_dwtui_asks_a_token_for_is_covered() -> None:
    profile = parse_profile("p", {"tenant_id": TENANT, "client_id": CLIENT, "lcs_project_id": "1234567"})
    scopes = [
        profile.lcs_scope,
        BAP_SCOPE,
        POWER_PLATFORM_SCOPE,
        DUALWRITE_SCOPE,
        dataverse_scope("https://contoso.crm.dynamics.com/"),
    ]
    assert {api_of(profile, scope) for scope in scopes} == set(apis())


def test_the_admin_consent_url_is_the_one_dwtui_prints() -> None:
    profile = parse_profile("p", {"tenant_id": TENANT, "client_id": CLIENT, "lcs_project_id": "1234567"})
    form = admin_consent_url(profile).replace(TENANT, "{tenant}").replace(CLIENT, "{client-id}")
    assert form in section()


def test_every_source_cited_is_listed_and_every_listed_source_is_cited() -> None:
    text = section()
    listed = set(re.findall(r"^- \[(S\d+)\] ", text, flags=re.MULTILINE))
    body = text.split("### Sources of this section", 1)[0]
    cited = {name for group in re.findall(r"\[(S\d+(?:, S\d+)*)\]", body) for name in group.split(", ")}
    assert listed and cited == listed
