"""`dwtui profiles` and `dwtui secret`: the config file's profiles, and their secrets in the keyring.

`dwtui profiles add` is in profiles_add.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

from dwtui.cli.global_options import settle
from dwtui.cli.root import cli
from dwtui.cli.runtime import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, Failure, Runtime, current_runtime
from dwtui.domain.profile import Profile

if TYPE_CHECKING:
    from dwtui.services.secrets import SecretStore

SECRET_KINDS = ("client-secret", "certificate-passphrase")


# The profiles file's, or with --demo the demo's: no environment, no calls, no one profile.
_LIST_USES = ("--config", "--demo")


@cli.group(invoke_without_command=True, uses=_LIST_USES)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def profiles(ctx: click.Context, as_json: bool) -> int:
    """List the profiles in the config file (the default one is marked *); `add` adds one."""
    if ctx.invoked_subcommand is not None:
        if as_json:
            raise click.UsageError(
                f"--json lists the profiles; `dwtui profiles {ctx.invoked_subcommand}` takes no --json", ctx
            )
        return EXIT_OK  # the subcommand settles the options it uses
    runtime = current_runtime()
    settle(runtime, frozenset(_LIST_USES), "dwtui profiles", ctx)
    return _list(runtime, as_json)


def _list(runtime: Runtime, as_json: bool) -> int:
    from dwtui.cli.token_store import store_facts
    from dwtui.services.secrets import SecretStore

    path, found, default = runtime.profiles()
    # The store a sign-in would use now (its passphrase is not asked here).
    store = SecretStore(memory_only=True) if runtime.demo else SecretStore()
    if as_json:
        items = [
            {**{k: v for k, v in asdict(p).items() if k != "extra"}, "default": name == default}
            for name, p in found.items()
        ]
        document = {
            "config": str(path) if path else None,
            "default_profile": default,
            "profiles": items,
            "token_store": store_facts(store),
        }
        click.echo(json.dumps(document, indent=2))
        return EXIT_OK
    if not found:
        where = path or "the config file"
        from dwtui.services.config import TRY_THE_DEMO

        click.echo(
            f"No profiles in {where}. Add a [profiles.NAME] table (README: Profiles), or {TRY_THE_DEMO}."
        )
        _echo_store(store)
        return EXIT_OK
    rows = [("", "NAME", "TENANT", "PROJECT", "ENVIRONMENT", "AUTH")] + [
        (
            "*" if name == default else "",
            name,
            p.tenant_id,
            p.lcs_project_id,
            p.environment_id or "(pick)",
            p.auth,
        )
        for name, p in found.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if path:
        click.echo(f"\nconfig: {path}")
    _echo_store(store)
    return EXIT_OK


def _echo_store(store: SecretStore) -> None:
    from dwtui.cli.token_store import store_line

    click.echo(store_line(store))
    for reason in store.not_used:
        click.echo(f"  not used: {reason}")
    if store.passphrase_error:
        click.echo(f"  {store.passphrase_error}")


@cli.group()
def secret() -> None:
    """Keep a profile's secrets in the OS keyring (never in the config file)."""


# The keyring of a profile of the profiles file (--demo is refused with its own reason).
_SECRET_USES = ("--config", "--profile", "--demo")


@secret.command("set", uses=_SECRET_USES)
@click.argument("kind", type=click.Choice(SECRET_KINDS))
def secret_set(kind: str) -> int:
    """Store the profile's client secret or certificate passphrase (prompted, not echoed)."""
    from dwtui.services.auth import store_secret

    store, profile = _secret_store()
    value = click.prompt(f"{kind} for profile '{profile.name}'", hide_input=True, err=True)
    try:
        store_secret(store, profile, kind, value)
    except ValueError as error:
        raise Failure(f"{error}; nothing was stored", EXIT_FAILURE) from None
    click.echo(f"Stored the {kind} of profile '{profile.name}' in {store.backend_name}.", err=True)
    return EXIT_OK


@secret.command("delete", uses=_SECRET_USES)
@click.argument("kind", type=click.Choice([*SECRET_KINDS, "token-cache"]))
def secret_delete(kind: str) -> int:
    """Forget a stored secret (token-cache signs the profile out)."""
    store, profile = _secret_store()
    store.delete(profile.secret_key(kind))
    click.echo(f"Deleted the {kind} of profile '{profile.name}' from {store.backend_name}.", err=True)
    return EXIT_OK


def _secret_store() -> tuple[SecretStore, Profile]:
    runtime = current_runtime()
    if runtime.demo:
        raise Failure(
            "the demo keeps its secrets in memory; secret commands are for real profiles", EXIT_CONFIG
        )
    profile = runtime.profile()
    from dwtui.cli.token_store import unlock_store
    from dwtui.services.secrets import SecretStore

    store = SecretStore()
    unlock_store(store, interactive=True)
    if not store.secure:
        raise Failure(f"{store.warning or 'no secure keyring backend'}; nothing was stored", EXIT_FAILURE)
    return store, profile
