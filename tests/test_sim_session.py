"""helpers.make_session: a Session pointed at the simulator, signed in through the real device flow."""

from __future__ import annotations

import pytest

from tests.conftest import SimFactory
from tests.helpers import make_session


@pytest.mark.parametrize(
    ("scenario", "linked", "mismatch"),
    [("happy", False, False), ("linked", True, False), ("mismatch", True, True)],
)
def test_make_session_reads_the_scenario(
    sim_factory: SimFactory, scenario: str, linked: bool, mismatch: bool
) -> None:
    sim = sim_factory(scenario, device_approve_after=0)
    session = make_session(sim, sign_in=True)
    try:
        report = session.status()
    finally:
        session.close()
    assert report.environment.environment_id == sim.environment_ids["uat"]
    assert report.signed_in is not None and report.signed_in.username == sim.user_name
    assert report.assessment.integration.value == "set up"
    assert report.assessment.link.value == ("linked" if linked else "not linked")
    assert (report.assessment.mismatch is not None) is mismatch
    kinds = {entry.kind for entry in session.activity.entries()}
    assert "http" in kinds


def test_make_session_with_a_client_secret(sim_factory: SimFactory) -> None:
    from dwtui.services.auth import store_client_secret
    from dwtui.services.secrets import SecretStore

    sim = sim_factory()
    secrets = SecretStore(memory_only=True)
    session = make_session(sim, secrets=secrets, auth="client-secret", client_id=sim.confidential_client_id)
    store_client_secret(secrets, session.profile, sim.client_secret)
    try:
        signed_in = session.auth.sign_in_confidential()
    finally:
        session.close()
    assert signed_in.kind == "app"
