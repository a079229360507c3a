"""Missing admin consent and the LCS API's refusal of applications, as the faults a person reads."""

from __future__ import annotations

from typing import Any

import pytest

from dwtui.domain.errors import explain, lookup
from dwtui.domain.profile import (
    BAP_SCOPE,
    DUALWRITE_SCOPE,
    POWER_PLATFORM_SCOPE,
    Profile,
    dataverse_scope,
    parse_profile,
)
from dwtui.domain.token_refusals import (
    CONSENT_REQUIRED,
    DELEGATED_ONLY,
    admin_consent_url,
    api_of,
    consent_fault,
    is_missing_consent,
    lcs_refusal,
)

CLIENT = "4f7d2c1a-9e3b-4a8d-b6c5-1e0f2a3b4c5d"


def profile(**changes: Any) -> Profile:
    table = {"tenant_id": "contoso.onmicrosoft.com", "client_id": CLIENT, "lcs_project_id": "1234567"}
    return parse_profile("p", {**table, **changes})


DESCRIPTION = (
    "AADSTS65001: The user or administrator has not consented to use the application with ID "
    f"'{CLIENT}' named 'dwtui'. Send an interactive authorization request for this user and resource."
)


@pytest.mark.parametrize(
    "answer",
    [
        # The commonly seen third-party shape, and MSAL's classification of it.
        {"error": "invalid_grant", "error_codes": [65001], "suberror": "consent_required"},
        {"error": "interaction_required", "error_codes": [65001], "suberror": "consent_required"},
        {"error": "invalid_grant", "error_codes": [50076, 65001]},
        {"error": "invalid_grant", "error_codes": ["65001"]},
        {"error": "invalid_grant", "suberror": "consent_required"},
        {"error": "invalid_grant", "classification": "consent_required"},
        {"error": "consent_required"},
        # Last resort: nothing but the leading code of the description.
        {"error": "invalid_grant", "error_description": DESCRIPTION},
    ],
)
def test_missing_consent_is_recognised(answer: dict[str, Any]) -> None:
    assert is_missing_consent(answer)


@pytest.mark.parametrize(
    "answer",
    [
        {"error": "invalid_grant", "error_codes": [70000], "error_description": "AADSTS70000: bad grant"},
        {"error": "invalid_grant", "suberror": "bad_token"},
        {"error": "interaction_required", "error_codes": [50076]},
        {
            "error": "invalid_client",
            "error_codes": [650056],
            "error_description": "AADSTS650056: Misconfigured",
        },
        {"error": "invalid_grant", "error_description": "See AADSTS65001 in the docs"},
        {"error": "invalid_grant", "error_codes": "65001"},  # not a list: not Entra's shape
        {},
    ],
)
def test_other_errors_are_not_a_missing_consent(answer: dict[str, Any]) -> None:
    assert not is_missing_consent(answer)


@pytest.mark.parametrize(
    ("scope", "name"),
    [
        ("https://lcsapi.lcs.dynamics.com//.default", "LCS API"),
        (BAP_SCOPE, "BAP admin API"),
        (POWER_PLATFORM_SCOPE, "Power Platform API"),
        (DUALWRITE_SCOPE, "dual-write gateway"),
        (dataverse_scope("https://contoso.crm.dynamics.com/"), "Dataverse"),
    ],
)
def test_each_scope_names_its_api(scope: str, name: str) -> None:
    assert api_of(profile(), scope).name == name


def test_a_regional_lcs_host_is_still_lcs() -> None:
    regional = profile(lcs_api_url="https://lcsapi.eu.lcs.dynamics.com")
    assert api_of(regional, "https://lcsapi.eu.lcs.dynamics.com//.default").name == "LCS API"


def test_the_admin_consent_url_is_the_documented_one_for_the_tenant_and_app() -> None:
    assert admin_consent_url(profile()) == (
        f"https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id={CLIENT}"
    )
    sovereign = profile(authority_url="https://login.microsoftonline.us/")
    assert admin_consent_url(sovereign).startswith(
        "https://login.microsoftonline.us/contoso.onmicrosoft.com/"
    )


def test_the_consent_fault_says_what_and_what_to_do() -> None:
    answer = {"error": "invalid_grant", "error_codes": [65001], "suberror": "consent_required"}
    fault = consent_fault(profile(), POWER_PLATFORM_SCOPE, answer)
    assert (fault.service, fault.code) == ("Power Platform API", CONSENT_REQUIRED)
    assert f"(scope {POWER_PLATFORM_SCOPE}) to app {CLIENT}" in fault.message
    assert "(invalid_grant, consent_required, AADSTS65001)" in fault.message
    explanation = explain(fault)
    assert admin_consent_url(profile()) in explanation.remedy
    assert "tenant contoso.onmicrosoft.com" in explanation.remedy
    assert "Cloud Application Administrator" in explanation.remedy
    assert "sign in again" not in (fault.message + explanation.meaning + explanation.remedy).lower()


def test_the_catalogue_explains_the_code_a_person_pastes() -> None:
    for code in ("AADSTS65001", "consent_required"):
        found = lookup(code)
        assert found is not None
        assert "admin consent" in found.remedy and "adminconsent?client_id=" in found.remedy
        assert found.doc.endswith("grant-admin-consent")


def test_only_application_profiles_are_refused_lcs() -> None:
    assert lcs_refusal(profile()) is None
    refusal = lcs_refusal(profile(auth="client-secret"))
    assert refusal is not None
    assert (refusal.service, refusal.code) == ("LCS API", DELEGATED_ONLY)
    assert "auth = client-secret" in refusal.message and "made no LCS call" in refusal.message
    explanation = explain(refusal)
    assert "Service Principal authentication" in explanation.meaning
    assert 'auth = "device-code"' in explanation.remedy and "onebox flight" in explanation.remedy
    assert explanation.doc.endswith("/lifecycle-services/lcs-aad-app-reg")
