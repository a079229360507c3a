"""SimServer: the simulator served by uvicorn over TLS on 127.0.0.1, in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import stat
import sys
import threading
import tomllib
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import tomli_w
import uvicorn

from dwtui.sim.app import SimulatedReset, build_app
from dwtui.sim.issuer import access_token
from dwtui.sim.scenarios import SCENARIOS, build_world
from dwtui.sim.tls import TlsFiles, make_server_tls
from dwtui.sim.world import FaultRule, World

SNAPSHOT_PORT = 47443
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


class _DropSimulatedResets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedReset))


def _quiet_uvicorn() -> None:
    # The simulator runs inside the TUI for --demo: nothing may reach the terminal through
    # logging's last-resort stderr handler, and injected connection resets are not errors.
    root = logging.getLogger("uvicorn")
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())
    error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropSimulatedResets) for f in error.filters):
        error.addFilter(_DropSimulatedResets())


class _Server(uvicorn.Server):
    """uvicorn.Server that says when it listens and stops without its 100 ms polling delay."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets=sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        while not await self.on_tick(0):
            assert self._wake is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    def request_stop(self) -> None:
        self.should_exit = True
        self.force_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self._loop.call_soon_threadsafe(self._wake.set)


def _is_profiles_file(data: bytes) -> bool:
    """A dwtui config (TOML with a [profiles] table): what --write-config may replace."""
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return False
    return isinstance(document.get("profiles"), dict)


class SimServer:
    """The simulator over TLS. A context manager; also .start() / .stop().

    `device_approve_after`: seconds after the devicecode call at which a device code counts as
    approved (the first poll is always pending); None means 3 simulated seconds; math.inf means
    only approve_device_code() approves.
    """

    def __init__(
        self,
        scenario: str = "happy",
        speed: float = 1.0,
        port: int = 0,
        device_approve_after: float | None = None,
        *,
        device_code_lifetime: float | None = None,
        token_lifetime: float | None = None,
    ) -> None:
        self.scenario = scenario
        self.speed = speed
        self.port = port
        self.world: World = build_world(scenario, speed)
        if device_approve_after is not None:
            self.world.device_approve_after = device_approve_after
        if device_code_lifetime is not None:
            self.world.device_code_lifetime = device_code_lifetime
        if token_lifetime is not None:
            self.world.token_lifetime = token_lifetime
        self._tls: TlsFiles | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> SimServer:
        if self._server is not None:
            return self
        _quiet_uvicorn()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # A fixed port (snapshots) must be reusable right after the previous run closed it.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self.world.base_url = f"https://127.0.0.1:{self.port}"
        self._tls = make_server_tls()
        config = uvicorn.Config(
            self._build_app(),
            ssl_certfile=str(self._tls.cert_file),
            ssl_keyfile=str(self._tls.key_file),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = _Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name=f"dwtui-sim-{self.port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        if not server.ready.wait(_START_TIMEOUT) or not thread.is_alive():
            self.stop()
            listener.close()
            raise RuntimeError(f"the simulator did not start on 127.0.0.1:{self.port}")
        return self

    def _build_app(self) -> Any:
        """The ASGI app to serve, built once the base URL is known (the replay server's differs)."""
        return build_app(self.world)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.request_stop()
        if thread is not None:
            thread.join(_STOP_TIMEOUT)
        if self._tls is not None:
            shutil.rmtree(self._tls.directory, ignore_errors=True)
            self._tls = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- where it is --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if not self.world.base_url:
            raise RuntimeError("the simulator has not been started")
        return self.world.base_url

    @property
    def ca_file(self) -> Path:
        if self._tls is None:
            raise RuntimeError("the simulator has not been started")
        return self._tls.ca_file

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.tenant_id}"

    @property
    def lcs_api_url(self) -> str:
        return f"{self.base_url}/lcs"

    @property
    def lcs_scope(self) -> str:
        return f"{self.lcs_api_url}//.default"

    @property
    def bap_api_url(self) -> str:
        return f"{self.base_url}/bap"

    @property
    def power_platform_api_url(self) -> str:
        return f"{self.base_url}/ppapi"

    @property
    def dualwrite_gateway_url(self) -> str:
        return f"{self.base_url}/gateway"

    def dataverse_url(self, unique_name: str) -> str:
        """The instanceUrl of a Dataverse org, e.g. dataverse_url("contosouat")."""
        return f"{self.base_url}/dataverse/{unique_name}/"

    # -- who is who ---------------------------------------------------------------------------

    @property
    def tenant_id(self) -> str:
        return self.world.tenant_id

    @property
    def tenant_domain(self) -> str:
        return self.world.tenant_domain

    @property
    def client_id(self) -> str:
        return self.world.client_id

    @property
    def confidential_client_id(self) -> str:
        return self.world.confidential_client_id

    @property
    def client_secret(self) -> str:
        return self.world.client_secret

    @property
    def onebox_client_id(self) -> str:
        """The app registered for the contoso-dev one-box (client credentials with onebox_client_secret)."""
        return self.world.onebox_client_id

    @property
    def onebox_client_secret(self) -> str:
        return self.world.onebox_client_secret

    @property
    def client_certificate_pem(self) -> str:
        return self.world.client_certificate.pem

    @property
    def user_name(self) -> str:
        return self.world.user_name

    @property
    def project_id(self) -> str:
        return self.world.project_id

    @property
    def environment_ids(self) -> dict[str, str]:
        return {record.short: record.environment_id for record in self.world.lcs_environments.values()}

    def environment_id(self, short: str) -> str:
        return self.world.lcs_by_short(short).environment_id

    # -- profiles -----------------------------------------------------------------------------

    def profile_table(self, environment: str = "uat") -> dict[str, object]:
        """A `[profiles.sim]` table pointing every base URL at this simulator (device-code sign-in)."""
        table: dict[str, object] = {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "lcs_project_id": self.project_id,
            "environment_id": self.environment_id(environment) if environment else "",
            "auth": "device-code",
            "authority_url": self.base_url,
            "lcs_api_url": self.lcs_api_url,
            "bap_api_url": self.bap_api_url,
            "power_platform_api_url": self.power_platform_api_url,
            "dualwrite_gateway_url": self.dualwrite_gateway_url if self.world.gateway_in_profile else "",
            "ca_bundle": str(self.ca_file),
            "allow_production_changes": False,
        }
        if not environment:
            del table["environment_id"]
        # A world of several LCS projects (the fleet scenario): the fleet view shows them all.
        others = self.world.lcs_projects()[1:]
        if others:
            table["fleet_project_ids"] = others
        return table

    def write_config(self, path: Path, environment: str = "uat", *, profile_name: str = "sim") -> None:
        document = {
            "default_profile": profile_name,
            "profiles": {profile_name: self.profile_table(environment)},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # No O_TRUNC until the file is known to be a profiles file (or empty): a mistyped path
        # (as root, /etc/passwd) must not be emptied. O_NONBLOCK: a FIFO fails instead of blocking.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600)
        with os.fdopen(descriptor, "r+b") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"{path} is not a regular file")
            if info.st_size and not _is_profiles_file(handle.read(1024 * 1024 + 1)):
                raise OSError(f"{path} exists and is not a dwtui profiles file; name a new file")
            os.set_blocking(handle.fileno(), True)
            handle.seek(0)
            handle.truncate()
            os.fchmod(handle.fileno(), 0o600)  # O_CREAT's mode does not apply to an existing file
            tomli_w.dump(document, handle)

    # -- test helpers ---------------------------------------------------------------------------

    def mint_token(self, scope: str, kind: str = "user") -> str:
        """An access token for `scope`'s resource, as the identity provider would issue it."""
        return access_token(self.world, scope, kind)

    def approve_device_code(self, user_code: str) -> bool:
        return self.world.approve_device_code(user_code, True)

    def decline_device_code(self, user_code: str) -> bool:
        return self.world.approve_device_code(user_code, False)

    def add_fault(
        self,
        path_prefix: str,
        kind: str,
        count: int = 1,
        retry_after: float | None = None,
        delay: float = 35.0,
        method: str = "",
    ) -> FaultRule:
        return self.world.add_fault(path_prefix, kind, count, retry_after, delay, method)

    def clear_faults(self) -> None:
        self.world.clear_faults()

    def requests(self) -> list[dict[str, Any]]:
        return self.world.requests()

    def reset_log(self) -> None:
        self.world.reset_log()


def run_standalone(
    scenario: str,
    speed: float,
    port: int,
    write_config: Path | None,
    out: TextIO | None = None,
    *,
    stop: threading.Event | None = None,
) -> int:
    """Serve until Ctrl-C (or until `stop` is set). Returns the exit code."""
    out = out or sys.stdout
    finished = stop or threading.Event()
    with SimServer(scenario=scenario, speed=speed, port=port) as sim:
        print(
            f"dwtui simulator: scenario {scenario} ({SCENARIOS[scenario].description}), speed {speed:g}x",
            file=out,
        )
        print(f"  base URL  {sim.base_url}", file=out)
        print(f"  CA file   {sim.ca_file}", file=out)
        print(
            f"  sign in   device code as {sim.user_name}; approve at {sim.base_url}/devicelogin "
            "(or wait: codes approve themselves)",
            file=out,
        )
        if write_config is not None:
            sim.write_config(write_config)
            print(f"  config    {write_config} (profile 'sim')", file=out)
            print(f"\n  dwtui --config {write_config} --profile sim", file=out)
        else:
            print("  (pass --write-config PATH to write a profile that points at it)", file=out)
        print("\nPress Ctrl-C to stop.", file=out, flush=True)
        try:
            while not finished.wait(3600):
                pass
        except KeyboardInterrupt:
            print("stopping the simulator", file=out, flush=True)
    return 0
