"""The simulator as a server: TLS with its own CA, ports, lifecycle, profiles and `dwtui sim`."""

from __future__ import annotations

import io
import os
import socket
import ssl
import stat
import threading
import tomllib
from pathlib import Path

import httpx
import pytest

from dwtui.sim import SCENARIOS, SimServer, run_standalone
from tests.conftest import SimFactory
from tests.helpers import sim_client


def test_serves_over_tls_trusted_only_through_its_own_ca(sim: SimServer) -> None:
    assert sim.base_url.startswith("https://127.0.0.1:")
    assert sim.port == int(sim.base_url.rsplit(":", 1)[1]) != 0
    with sim_client(sim) as client:
        assert client.get(f"{sim.authority}/v2.0/.well-known/openid-configuration").status_code == 200
    with httpx.Client(verify=ssl.create_default_context()) as client, pytest.raises(httpx.ConnectError):
        client.get(f"{sim.base_url}/devicelogin")


def test_certificate_names_localhost_too(sim: SimServer) -> None:
    with sim_client(sim) as client:
        answer = client.get(f"https://localhost:{sim.port}/devicelogin")
    assert answer.status_code == 200
    assert "Sign in to the dwtui simulator" in answer.text


def test_fixed_port_can_be_reused_after_stop() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for _ in range(2):
        with SimServer(port=port) as sim, sim_client(sim) as client:
            assert sim.base_url == f"https://127.0.0.1:{port}"
            assert client.get(f"{sim.base_url}/devicelogin").status_code == 200


def test_a_port_in_use_fails_at_start() -> None:
    with SimServer() as first, pytest.raises(OSError):
        SimServer(port=first.port).start()


def test_stop_removes_the_throwaway_ca_and_refuses_connections(sim_factory: SimFactory) -> None:
    sim = sim_factory()
    ca_file, base = sim.ca_file, sim.base_url
    ca_text = ca_file.read_text()
    sim.stop()
    assert not ca_file.exists()
    context = ssl.create_default_context(cadata=ca_text)
    with httpx.Client(verify=context) as client, pytest.raises(httpx.ConnectError):
        client.get(f"{base}/devicelogin")


def test_unknown_scenario_and_bad_speed_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        SimServer(scenario="nope")
    with pytest.raises(ValueError, match="speed"):
        SimServer(speed=0)


def test_every_documented_scenario_is_registered() -> None:
    assert {"happy", "installed", "linked", "not-integrated", "mismatch", "throttled"} <= set(SCENARIOS)


def test_profile_table_is_a_valid_profile_for_each_environment(sim: SimServer) -> None:
    from dwtui.domain.profile import parse_profile

    for short in ("uat", "prod", "dev"):
        profile = parse_profile("sim", sim.profile_table(short))
        assert profile.environment_id == sim.environment_ids[short]
        assert profile.authority == f"{sim.base_url}/{sim.tenant_id}"
        assert profile.ca_bundle == str(sim.ca_file)
        assert profile.dualwrite_gateway_url == f"{sim.base_url}/gateway"
    assert "environment_id" not in sim.profile_table("")
    with pytest.raises(KeyError):
        sim.profile_table("qa")


def test_write_config_is_private_toml_naming_the_sim_profile(sim: SimServer, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "config.toml"
    path.parent.mkdir()
    path.write_text('[profiles.old]\ntenant_id = "x"\n')  # an earlier profiles file: replaced
    os.chmod(path, 0o644)
    sim.write_config(path, environment="prod")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = tomllib.loads(path.read_text())
    assert document["default_profile"] == "sim"
    table = document["profiles"]["sim"]
    assert table["environment_id"] == sim.environment_ids["prod"]
    assert table["auth"] == "device-code"
    assert table["lcs_api_url"] == f"{sim.base_url}/lcs"
    assert table["ca_bundle"] == str(sim.ca_file)
    assert sim.client_secret not in path.read_text()


def test_write_config_never_replaces_a_file_that_is_not_a_profiles_file(
    sim: SimServer, tmp_path: Path
) -> None:
    precious = tmp_path / "passwd"
    precious.write_text("root:x:0:0:root:/root:/bin/bash\n")
    os.chmod(precious, 0o644)
    with pytest.raises(OSError, match="is not a dwtui profiles file"):
        sim.write_config(precious)
    assert precious.read_text() == "root:x:0:0:root:/root:/bin/bash\n"
    assert stat.S_IMODE(precious.stat().st_mode) == 0o644


def test_run_standalone_prints_how_to_use_it_and_stops(tmp_path: Path) -> None:
    out = io.StringIO()
    stop = threading.Event()
    config = tmp_path / "sim.toml"
    codes: list[int] = []
    runner = threading.Thread(
        target=lambda: codes.append(run_standalone("mismatch", 10.0, 0, config, out, stop=stop))
    )
    runner.start()
    try:
        for _ in range(500):
            if "Ctrl-C" in out.getvalue():
                break
            stop.wait(0.01)
        text = out.getvalue()
        base = next(line.split()[-1] for line in text.splitlines() if "base URL" in line)
        ca_file = next(line.split()[-1] for line in text.splitlines() if "CA file" in line)
        assert f"dwtui --config {config} --profile sim" in text
        with httpx.Client(verify=ssl.create_default_context(cafile=ca_file)) as client:
            assert client.get(f"{base}/devicelogin").status_code == 200
        assert tomllib.loads(config.read_text())["profiles"]["sim"]["authority_url"] == base
    finally:
        stop.set()
        runner.join(10)
    assert codes == [0]
    assert not Path(ca_file).exists()
