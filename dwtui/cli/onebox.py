"""`dwtui onebox`: the one-box screen's steps headless: application user, AOS restart, verify.

The flight has its own module (dwtui.cli.flight). Every change is confirmed first (--yes or a
prompt); the services record each one in the Activity log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from dwtui.cli.operations import JSON_SCHEMA, Output
from dwtui.cli.params import IDENTIFIER, NAME
from dwtui.cli.root import cli
from dwtui.cli.runtime import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_SERVICE,
    EXIT_SIGN_IN,
    Failure,
    can_confirm,
    confirm,
    current_runtime,
    read_secret,
    signed_in_status,
    stdin_is_interactive,
)
from dwtui.domain.appuser import APP_ID_HINT, DEFAULT_ROLE, validate_app_id

if TYPE_CHECKING:
    from dwtui.domain.appuser import AppUserPlan, AppUserResult
    from dwtui.domain.models import LcsEnvironment
    from dwtui.services.session import Session

_NO_INTERACTIVE = click.option(
    "--no-interactive", is_flag=True, help="Never wait for a device-code sign-in (exit 4)."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON object (README).")
_APP_ID = click.option(
    "--app-id",
    "app_id",
    type=IDENTIFIER,
    default="",
    help=f"{APP_ID_HINT[0].upper()}{APP_ID_HINT[1:]} (a GUID).",
)


@cli.group()
def onebox() -> None:
    """One-box development VM: application user, flight SQL on AXDB, AOS restart, verify."""


def onebox_dataverse(
    no_interactive: bool, session: Session | None = None
) -> tuple[Session, LcsEnvironment, str]:
    """The signed-in session, the one-box environment, and the Dataverse its integration names."""
    from dwtui.domain.models import DataverseEnvironment

    # Refused as soon as LCS names the environment's type, before any Power Platform read.
    session, report = signed_in_status(no_interactive, check=refuse_non_onebox, session=session)
    environment = report.environment
    dataverse = report.snapshot.dataverse
    if not isinstance(dataverse, DataverseEnvironment):
        raise Failure(
            f"Power Platform Integration names no Dataverse environment for {environment.name}; "
            "set it up first",
            EXIT_FAILURE,
        )
    return session, environment, dataverse.instance_url


def refuse_non_onebox(environment: LcsEnvironment) -> None:
    if not environment.is_onebox:
        raise Failure(
            f"{environment.name} is a {environment.environment_type or 'non-one-box'} environment, not a "
            "one-box development VM; choose one with --environment",
            EXIT_CONFIG,
        )


def _app_id(given: str) -> str:
    """The app id, checked before anything is read or asked (a secret on stdin included)."""
    chosen = given.strip() or current_runtime().demo_onebox_app_id()
    if not chosen:
        raise Failure(f"give --app-id: {APP_ID_HINT}", EXIT_CONFIG)
    try:
        return validate_app_id(chosen)
    except ValueError as error:
        raise Failure(f"--app-id: {error}", EXIT_CONFIG) from error


# -- application user ---------------------------------------------------------------------------


@onebox.command("app-user")
@_APP_ID
@click.option(
    "--business-unit", type=NAME, default="", help="Business unit name or id (default: the root one)."
)
@click.option("--role", type=NAME, default=DEFAULT_ROLE, show_default=True, help="Security role name or id.")
@_JSON
@click.option("--yes", is_flag=True, help="Create without asking.")
@_NO_INTERACTIVE
def app_user(
    app_id: str, business_unit: str, role: str, as_json: bool, yes: bool, no_interactive: bool
) -> int:
    """Create the application user in Dataverse (idempotent: an existing one only gets a missing role)."""
    from dwtui.services.onebox import app_users

    application_id = _app_id(app_id)
    session, environment, instance_url = onebox_dataverse(no_interactive)
    out = Output(as_json)
    users = app_users(session, instance_url)
    plan = users.plan(application_id, business_unit, role)
    out.say(f"Dataverse {instance_url}: {plan.describe()}")
    if plan.nothing_to_do:
        out.emit(_app_user_json(environment, instance_url, plan, None))
        return EXIT_OK
    confirm(f"{plan.describe()} Go ahead?", yes=yes, what="create the application user")
    result = users.apply(plan)
    out.say(result.summary())
    out.emit(_app_user_json(environment, instance_url, plan, result))
    return EXIT_OK


def _app_user_json(
    environment: LcsEnvironment, instance_url: str, plan: AppUserPlan, result: AppUserResult | None
) -> dict[str, Any]:
    user = result.user if result is not None else plan.existing
    return {
        "schema": JSON_SCHEMA,
        "command": "onebox app-user",
        "environment": {"id": environment.environment_id, "name": environment.name},
        "dataverse_url": instance_url,
        "application_id": plan.application_id,
        "business_unit": {
            "id": plan.business_unit.business_unit_id,
            "name": plan.business_unit.name,
            "root": plan.business_unit.is_root,
        },
        "role": {"id": plan.role.role_id, "name": plan.role.name},
        "systemuser_id": user.systemuser_id if user is not None else "",
        "created": bool(result and result.created),
        "role_added": bool(result and result.role_added),
        "changed": bool(result and (result.created or result.role_added or result.purged)),
        "soft_deleted": [u.systemuser_id for u in plan.soft_deleted],
        "purged": list(result.purged) if result is not None else [],
    }


# -- verify -------------------------------------------------------------------------------------

_NO_APP_SECRET = (
    "verify signs in as the app and the keyring holds no client secret for it: pass --secret-stdin, "
    "--certificate, or run it in a terminal to be asked"
)


@onebox.command()
@_APP_ID
@click.option(
    "--certificate",
    "certificate_path",
    default=None,
    type=click.Path(dir_okay=False, exists=True),
    help="Sign in as the app with this PEM (key + certificate) instead of a client secret.",
)
@click.option("--secret-stdin", is_flag=True, help="Read the app's client secret from one line of stdin.")
@_JSON
@_NO_INTERACTIVE
def verify(
    app_id: str, certificate_path: str | None, secret_stdin: bool, as_json: bool, no_interactive: bool
) -> int:
    """WhoAmI as the application and its user's roles as you; names the missing step.

    The app's client secret comes from the keyring, else --secret-stdin or a hidden prompt, and is
    then kept in the keyring for the next verify.
    """
    from dwtui.services.verify import has_app_secret, store_app_secret, verify_onebox

    application_id = _app_id(app_id)
    # The keyring and stdin are on this machine: a secret that cannot be had is said before a sign-in.
    session = current_runtime().session()
    needs_secret = not certificate_path and (
        secret_stdin or not has_app_secret(session.secrets, session.profile, application_id)
    )
    if needs_secret and not secret_stdin and not stdin_is_interactive():
        raise Failure(_NO_APP_SECRET, EXIT_SIGN_IN)
    session, environment, instance_url = onebox_dataverse(no_interactive, session)
    out = Output(as_json)
    if needs_secret:
        secret = read_secret(
            f"Client secret of the app {application_id}",
            from_stdin=secret_stdin,
            missing=_NO_APP_SECRET,
        )
        store_app_secret(session.secrets, session.profile, application_id, secret)
    result = verify_onebox(session, instance_url, application_id, certificate_path=certificate_path or "")
    verdict, fault = result.verdict, result.fault
    out.say(verdict.message)
    for line in result.checks():
        out.say(f"  {line}")
    from dwtui.services.status_json import fault_to_json

    user = result.lookup.active if result.lookup is not None else None
    out.emit(
        {
            "schema": JSON_SCHEMA,
            "command": "onebox verify",
            "environment": {"id": environment.environment_id, "name": environment.name},
            "dataverse_url": instance_url,
            "application_id": application_id,
            "ok": verdict.ok,
            "set_up": verdict.set_up,
            "missing_step": verdict.missing_step,
            "message": verdict.message,
            "checks": result.checks(),
            "who_am_i": None
            if result.who_am_i is None
            else {
                "user_id": result.who_am_i.user_id,
                "business_unit_id": result.who_am_i.business_unit_id,
                "organization_id": result.who_am_i.organization_id,
            },
            "error": fault_to_json(fault) if fault is not None else None,
            "app_user": None
            if user is None
            else {
                "systemuser_id": user.systemuser_id,
                "full_name": user.full_name,
                "business_unit_id": user.business_unit_id,
                "disabled": user.is_disabled,
                "roles": [{"id": role.role_id, "name": role.name} for role in user.roles],
            },
            "soft_deleted_app_users": [u.systemuser_id for u in result.lookup.soft_deleted]
            if result.lookup is not None
            else [],
            "app_user_error": fault_to_json(result.lookup_fault) if result.lookup_fault is not None else None,
        }
    )
    if verdict.ok:
        return EXIT_OK
    code = EXIT_SIGN_IN if fault is not None and fault.service == "sign-in" else EXIT_SERVICE
    step = f" (missing step: {verdict.missing_step})" if verdict.missing_step else ""
    raise Failure(f"the one-box is not set up{step}: {verdict.message}", code)


# -- AOS restart --------------------------------------------------------------------------------


@onebox.command("restart-aos")
@click.option("--yes", is_flag=True, help="Restart without asking.")
@_JSON
@_NO_INTERACTIVE
def restart_aos(yes: bool, as_json: bool, no_interactive: bool) -> int:
    """Stop and start w3svc and DynamicsAxBatch and start the AOSService web site (elevated shell).

    The environment (from LCS) must be a one-box development VM. On anything but Windows, and in
    the demo, a simulated service controller takes the same path.
    """
    from dwtui.domain.aos import AOS_SERVICES, AOS_WEBSITE, ELEVATION_HINT, StepResult
    from dwtui.services.aos import SimulatedServiceController, default_controller
    from dwtui.services.aos import restart_aos as run_restart

    runtime = current_runtime()
    # What this machine can tell comes first, before a sign-in: a restart always asks (or --yes),
    # and a shell that is not elevated cannot stop a service.
    can_confirm(yes=yes, what="restart the AOS")
    controller = SimulatedServiceController(speed=runtime.speed) if runtime.demo else default_controller()
    if not controller.simulated and controller.elevated()[0] is False:
        raise Failure(f"the AOS restart did not start: {ELEVATION_HINT}", EXIT_CONFIG)
    # Before anything is stopped: a sandbox or production environment has no AOS of its own to restart.
    signed_in_status(no_interactive, check=refuse_non_onebox)
    out = Output(as_json)
    what = f"stop and start {' and '.join(AOS_SERVICES)}, then start the {AOS_WEBSITE} web site"
    if controller.simulated:
        out.say("Not a Windows one-box: a simulated service controller takes the same steps.")
    confirm(f"Restart the AOS ({what})?", yes=yes, what="restart the AOS")

    def step_done(step: StepResult) -> None:
        mark = "ok" if step.ok else "FAILED"
        out.say(f"[aos] {mark}: {step.name} ({step.duration_s:.1f} s)")
        for line in step.output.splitlines():
            out.say(f"    {line}")

    result = run_restart(controller, runtime.activity_log(), on_step=step_done)
    out.say(result.message)
    out.emit(
        {
            "schema": JSON_SCHEMA,
            "command": "onebox restart-aos",
            "ok": result.ok,
            "simulated": result.simulated,
            "message": result.message,
            "services": result.statuses,
            "steps": [
                {"name": s.name, "ok": s.ok, "duration_s": s.duration_s, "output": s.output}
                for s in result.steps
            ],
        }
    )
    if result.ok:
        return EXIT_OK
    # Not elevated is how dwtui was started, not a fault of the services.
    code = EXIT_CONFIG if ELEVATION_HINT in result.message else EXIT_SERVICE
    raise Failure(f"the AOS restart did not complete: {result.message}", code)
