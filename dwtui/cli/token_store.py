"""The token store as the command line shows it: one line naming it when a sign-in happens, and the
encrypted file's passphrase, asked once per run without echo on the terminal (never from argv)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dwtui.cli import runtime as runtime_module
from dwtui.services.secrets import FILE_LABEL

if TYPE_CHECKING:
    from dwtui.services.secrets import SecretStore

TRIES = 3


def store_line(secrets: SecretStore) -> str:
    """`tokens: <store> (<where and how long>)`, the one line a sign-in or `dwtui profiles` shows."""
    if not secrets.secure and not secrets.needs_passphrase:
        return f"tokens: {secrets.label} (in memory for this run only: the next command signs in again)"
    if secrets.label == FILE_LABEL and secrets.not_used:  # the fallback says what it stands in for
        return f"tokens: {secrets.label} ({secrets.detail}; not used: {'; '.join(secrets.not_used)})"
    return f"tokens: {secrets.label} ({secrets.detail})"


def store_facts(secrets: SecretStore) -> dict[str, object]:
    """The store for `--json`: its short name, where and how long, and why others were passed over."""
    return {
        "store": secrets.label,
        "backend": secrets.backend_name,
        "detail": secrets.detail,
        "locked": secrets.needs_passphrase,
        "not_used": list(secrets.not_used),
    }


def unlock_store(secrets: SecretStore, *, interactive: bool) -> None:
    """Open the encrypted file before anything reads the token cache, asking for its passphrase.

    Without a terminal or with --no-interactive, one line names DWTUI_KEYRING_PASSPHRASE (exit 4).
    """
    from dwtui.services.secrets import PASSPHRASE_VARIABLE

    if not secrets.needs_passphrase:
        return
    why = secrets.passphrase_error or f"the token store here is an encrypted file, {secrets.file_path}"
    where = "; ".join(secrets.not_used)
    if not interactive or not runtime_module.stdin_is_interactive():
        ask = (
            "run without --no-interactive to type it"
            if not interactive
            else "run it in a terminal to type it"
        )
        raise runtime_module.Failure(
            f"{why}, and no passphrase was given: set {PASSPHRASE_VARIABLE}, or {ask}",
            runtime_module.EXIT_SIGN_IN,
        )
    new = not secrets.file_exists
    if secrets.passphrase_error:
        click.echo(f"dwtui: {secrets.passphrase_error}", err=True)
    line = f"tokens are kept in an encrypted file here ({where or 'no other store'}): {secrets.file_path}"
    click.echo(f"dwtui: {line}", err=True)
    question = "New passphrase for it (8 characters or more)" if new else "Its passphrase"
    for _ in range(TRIES):
        passphrase = click.prompt(question, hide_input=True, confirmation_prompt=new, err=True)
        try:
            secrets.unlock(passphrase)
            return
        except (ValueError, OSError) as error:
            click.echo(f"dwtui: {error}", err=True)
    raise runtime_module.Failure(
        f"the passphrase does not open {secrets.file_path}; if it is forgotten, delete that file "
        "(its tokens are lost and you sign in again)",
        runtime_module.EXIT_SIGN_IN,
    )
