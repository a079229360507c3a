"""`dwtui reset`: Reset dual-write connection, after saying what it wipes and where it points after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from dwtui.cli.operations import JSON_SCHEMA, Output
from dwtui.cli.root import cli
from dwtui.cli.runtime import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    Failure,
    signed_in_status,
)

if TYPE_CHECKING:
    from dwtui.domain.linking import ResetPlan
    from dwtui.domain.models import LcsEnvironment


@cli.command()
@click.option("--force", is_flag=True, help="Force Reset: also when table maps run (it stops them).")
@click.option("--yes", is_flag=True, help="Required: a reset wipes maps, keys and history.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (README).")
@click.option("--no-interactive", is_flag=True, help="Never wait for a device-code sign-in (exit 4).")
def reset(force: bool, yes: bool, as_json: bool, no_interactive: bool) -> int:
    """Reset dual-write connection to the Dataverse Power Platform Integration names (the mismatch remedy).

    Prints the current and the target Dataverse and what a reset wipes; runs only with --yes, and
    while table maps run only with --force.
    """
    from dwtui.domain.linking import reset_plan
    from dwtui.domain.models import DualWriteLink
    from dwtui.services.linking import reset_connection, running_maps

    # A production environment the profile keeps read-only is refused as soon as LCS names its
    # type: nothing is read from its Power Platform environment or its gateway.
    session, report = signed_in_status(no_interactive, change=True)
    environment, snapshot = report.environment, report.snapshot
    out = Output(as_json)
    plan = reset_plan(environment, snapshot)
    if plan is None:
        raise Failure(
            f"dual-write is not linked on {environment.name}, so there is no connection to reset",
            EXIT_FAILURE,
        )
    _describe(out, environment, plan)
    if not plan.allowed:
        raise Failure(f"cannot reset: {plan.reason}", EXIT_FAILURE)
    maps = running_maps(session, snapshot)
    if maps:
        out.say(f"Table maps running: {', '.join(maps)}")
    if maps and not force:
        raise Failure(
            f"{len(maps)} table map(s) still run ({', '.join(maps)}): stop them in "
            "Workspaces > Data management > Dual Write, or reset with --force, which stops them; "
            "nothing was reset",
            EXIT_FAILURE,
        )
    if not yes:
        raise Failure(
            "a reset wipes the dual-write configuration listed above: run again with --yes to reset; "
            "nothing was reset",
            EXIT_CONFIG,
        )
    result = reset_connection(session, environment, snapshot, force)
    after = session.assess(environment, result.after)
    out.say(f"Reset dual-write connection{' (force)' if force else ''}: done.")
    link = result.after.link
    linked_to = link.dataverse_url if isinstance(link, DualWriteLink) and link.linked else ""
    if linked_to:
        out.say(f"Dual-write is now linked to {linked_to}.")
    if after.mismatch is None:
        out.say("No linking mismatch any more.")
    else:
        out.say(f"Still a linking mismatch: {after.mismatch.warning} ({after.mismatch.remedy.value})")
    out.emit(
        _json(
            environment,
            plan,
            maps,
            force,
            outcome="reset",
            linked_to=linked_to,
            mismatch_after=after.mismatch is not None,
        )
    )
    return EXIT_OK


def _describe(out: Output, environment: LcsEnvironment, plan: ResetPlan) -> None:
    out.say(f"Reset dual-write connection on {environment.name} ({plan.scenario.value})")
    out.say(
        f"  Current Dataverse: {plan.current_dataverse_name or '?'} ({plan.current_dataverse_url or '-'})"
    )
    target = f"{plan.target_dataverse_name or '?'} ({plan.target_dataverse_url or '-'})"
    out.say(f"  Target Dataverse:  {target if plan.allowed else '(none: ' + plan.reason + ')'}")
    out.say("A reset will:")
    for item in plan.wipes:
        out.say(f"  - {item}")
    out.say(plan.afterwards)


def _json(
    environment: LcsEnvironment,
    plan: ResetPlan,
    maps: tuple[str, ...],
    force: bool,
    *,
    outcome: str,
    linked_to: str,
    mismatch_after: bool,
) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA,
        "command": "reset",
        "environment": {"id": environment.environment_id, "name": environment.name},
        "outcome": outcome,
        "scenario": plan.scenario.value,
        "current_dataverse": {"url": plan.current_dataverse_url, "name": plan.current_dataverse_name},
        "target_dataverse": {"url": plan.target_dataverse_url, "name": plan.target_dataverse_name},
        "wipes": list(plan.wipes),
        "running_maps": list(maps),
        "forced": force,
        "linked_to": linked_to,
        "mismatch_after": mismatch_after,
    }
