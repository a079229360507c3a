"""`dwtui profiles add`: a profile added to the config file, from flags or asked for in a terminal.

Every value is checked as the config loader checks it (dwtui.domain.profile); then, unless
--no-check, the identity provider is asked, without signing in, whether the tenant exists and knows
the app id (dwtui.services.profile_checks). The file keeps its text and comments: the new table is
appended (dwtui.services.config.add_profile).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from dwtui.cli.profiles import profiles
from dwtui.cli.runtime import EXIT_CONFIG, EXIT_OK, Failure, Runtime, current_runtime
from dwtui.domain.profile import (
    AUTH_METHODS,
    ENV_OVERRIDES,
    ProfileError,
    parse_profile,
    profile_to_toml_table,
    validate_setting,
)


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the setting ("tenant_id"), or "name" for the profile's name
    flag: str  # how it is given on the command line
    question: str  # how it is asked in a terminal; "" when it is not asked
    required: bool = False


FIELDS = (
    Field("name", "NAME", "Profile name", required=True),
    Field(
        "tenant_id",
        "--tenant-id",
        "Tenant (directory id GUID, or a domain such as contoso.onmicrosoft.com)",
        required=True,
    ),
    Field("client_id", "--client-id", "App id (Application (client) ID of your app registration)", True),
    Field("lcs_project_id", "--lcs-project-id", "LCS project id (the number in the LCS project URL)", True),
    Field("environment_id", "--environment-id", "LCS environment id (empty: pick one when dwtui starts)"),
    Field("auth", "--auth", f"Sign-in method ({', '.join(AUTH_METHODS)})"),
    Field("certificate_path", "--certificate-path", "Certificate PEM file (private key and certificate)"),
    Field("lcs_api_url", "--lcs-api-url", ""),
    Field(
        "dualwrite_gateway_url",
        "--dualwrite-gateway-url",
        "Dual-write gateway URL (empty: the link state shows as unknown)",
    ),
)
_BY_NAME = {field.name: field for field in FIELDS}


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


# Whether to ask for what the flags left out. Tests put their own here to drive the questions
# through a pipe.
is_interactive: Callable[[], bool] = stdin_is_terminal


# It writes the config file (--config) and asks the identity provider (--trace records that);
# --demo is taken only to be refused with its own reason.
@profiles.command("add", uses=("--config", "--trace", "--demo"))
@click.argument("name", required=False)
@click.option("--tenant-id", help="Microsoft Entra tenant: its GUID or a domain.")
@click.option("--client-id", help="Application (client) ID of the app registration, a GUID.")
@click.option("--lcs-project-id", help="LCS project id (the number in the LCS project URL).")
@click.option("--environment-id", help="LCS environment id (default: none, pick one when dwtui starts).")
@click.option("--auth", help=f"Sign-in method: {', '.join(AUTH_METHODS)} (default: device-code).")
@click.option("--certificate-path", help="PEM file: private key and certificate (for --auth certificate).")
@click.option("--lcs-api-url", help="LCS API base URL (default: https://lcsapi.lcs.dynamics.com).")
@click.option("--dualwrite-gateway-url", help="Dual-write gateway URL (default: none; link state unknown).")
@click.option("--default", "make_default", is_flag=True, help="Make it the default profile.")
@click.option("--no-check", is_flag=True, help="Make no call: skip the tenant and app id checks.")
def add(make_default: bool, no_check: bool, **flags: str | None) -> int:
    """Add a profile to the config file. In a terminal, asks for what the flags leave out.

    Checks every value as the config file is checked; then, unless --no-check, asks the identity
    provider (no sign-in) whether the tenant exists and knows the app id. A problem stops it before
    anything is written (exit 2), unless you confirm in a terminal.
    """
    runtime = current_runtime()
    if runtime.demo:
        raise Failure(
            "--demo has no config file to add a profile to (it makes its own profile 'demo'): leave out "
            "--demo; `dwtui sim --write-config PATH` writes a profile for a standalone simulator",
            EXIT_CONFIG,
        )
    from dwtui.services.config import default_config_path, read_config_file

    path = runtime.config_path or default_config_path()
    config = read_config_file(path)  # a broken file stops here, before any question
    taken = _Taken(config.path, set(config.profiles))
    values = {name: _from_flag(name, value, taken) for name, value in flags.items() if value is not None}
    if is_interactive():
        _ask_the_rest(values, taken)
    else:
        _refuse_missing(values)
    table = _table(values)
    if not no_check and not _checks_pass(runtime, path, values["name"], table):
        raise Failure(
            f"profile '{values['name']}' was not added: a check found a problem (above); fix it, or add "
            "--no-check to add it unchecked",
            EXIT_CONFIG,
        )
    _write(runtime, path, values["name"], table, make_default)
    return EXIT_OK


@dataclass(frozen=True, slots=True)
class _Taken:
    path: Path
    names: set[str]


def _checked(name: str, value: str, taken: _Taken) -> str:
    value = validate_setting(name, value)
    if name == "name" and value in taken.names:
        raise ProfileError(
            "name", f"'{value}' is already a profile in {taken.path}", "choose another name for the new one"
        )
    if name == "certificate_path" and value and not os.path.isabs(os.path.expanduser(value)):
        # The file reads a relative path from its own folder; the person typed it from here.
        value = str(Path.cwd() / value)
    return value


def _from_flag(name: str, value: str, taken: _Taken) -> str:
    try:
        return _checked(name, value, taken)
    except ProfileError as error:
        raise Failure(f"{name} ({_BY_NAME[name].flag}): {error.problem}; {error.fix}", EXIT_CONFIG) from None


def _ask_the_rest(values: dict[str, str], taken: _Taken) -> None:
    for field in FIELDS:
        if field.name in values or not field.question:
            continue
        if field.name == "certificate_path" and values.get("auth") != "certificate":
            continue
        values[field.name] = _ask(field, taken)


def _ask(field: Field, taken: _Taken) -> str:
    """One answer, checked as it is typed: a bad one says why and is asked again."""

    def convert(answer: str) -> str:
        try:
            return _checked(field.name, answer, taken)
        except ProfileError as error:
            raise click.BadParameter(f"{field.name}: {error.problem}; {error.fix}") from None

    required = field.required or field.name == "certificate_path"
    default = "device-code" if field.name == "auth" else None if required else ""
    answer: str = click.prompt(
        field.question, default=default, show_default=bool(default), value_proc=convert, err=True
    )
    return answer


def _refuse_missing(values: Mapping[str, str]) -> None:
    missing = [field.flag for field in FIELDS if field.required and field.name not in values]
    if values.get("auth") == "certificate" and "certificate_path" not in values:
        missing.append("--certificate-path")
    if missing:
        raise Failure(
            f"missing {', '.join(missing)}: stdin is not a terminal, so nothing is asked; give them on the "
            "command line (dwtui profiles add --help)",
            EXIT_CONFIG,
        )


def _table(values: Mapping[str, str]) -> dict[str, object]:
    """The [profiles.NAME] table: the settings given, checked together as the loader checks them."""
    name = values["name"]
    raw = {key: value for key, value in values.items() if key != "name" and value}
    return profile_to_toml_table(parse_profile(name, raw))


def _checks_pass(runtime: Runtime, path: Path, name: str, table: Mapping[str, object]) -> bool:
    """Run the live checks and print one line each; False when one found a problem that stands."""
    from dwtui.domain.profile_checks import PROBLEM
    from dwtui.services.config import profile_as_used
    from dwtui.services.profile_checks import check_profile

    # What dwtui will use: the values typed, and the environment for the rest (AZURE_AUTHORITY_HOST,
    # DWTUI_CA_BUNDLE); a variable must not swap the tenant or app id typed here for its own.
    environ = {key: value for key, value in os.environ.items() if ENV_OVERRIDES.get(key) not in table}
    profile = profile_as_used(path, name, table, environ)
    click.echo(f"Checking the tenant and app id at {profile.authority_url} (no sign-in):")
    found = check_profile(profile, runtime.activity_log(), trace=runtime.trace())
    for check in found:
        click.echo(f"  {check.line()}")
    if not any(check.outcome == PROBLEM for check in found):
        return True
    if is_interactive():
        return click.confirm("Add the profile anyway?", default=False, err=True)
    return False


def _write(runtime: Runtime, path: Path, name: str, table: Mapping[str, object], make_default: bool) -> None:
    from dwtui.services.activity import ActivityEntry
    from dwtui.services.config import add_profile

    added = add_profile(path, name, table, make_default=make_default)
    summary = f"Added profile '{name}' to {added.path}" + (" (the default profile)" if added.default else "")
    runtime.activity_log().record(ActivityEntry(at=time.time(), kind="change", summary=summary))
    click.echo(f"{summary}.")
    where = f"--config {shlex.quote(str(path))} " if "--config" in runtime.given else ""
    click.echo(f"Next: dwtui {where}doctor --profile {name}   (signs in and checks every prerequisite)")
