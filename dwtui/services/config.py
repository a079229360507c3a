"""The profiles file: TOML in the platform's config directory, environment variables laid over it.

Every failure is a ProfileError naming the field (or the file) and the fix, so the CLI can print
one line and exit 2. Secrets are refused here (domain.profile.parse_profile): they belong in the
OS keyring.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from dwtui.domain.profile import (
    ENV_OVERRIDES,
    Profile,
    ProfileError,
    apply_overrides,
    is_secret_setting,
    parse_profile,
    validate_name,
)
from dwtui.services.files import MIB, FileProblem, read_limited
from dwtui.services.private_files import replace_private

_TOP_LEVEL = ("default_profile", "profiles")
_FILE = "config"  # the "field" a whole-file problem is reported under
# A profiles file is a few KiB; a limit keeps `--config /dev/zero` or a log file from being read whole.
CONFIG_LIMIT = MIB


def default_config_path() -> Path:
    return platformdirs.user_config_path("dwtui") / "config.toml"


@dataclass
class Config:
    path: Path
    profiles: dict[str, Profile]
    default_profile: str | None


def load_config(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> Config:
    """Read and validate every profile. A missing file at the default path is an empty Config."""
    explicit = path is not None
    path = Path(path) if path is not None else default_config_path()
    text = _read_text(path, missing_ok=not explicit)
    if text is None:
        return Config(path=path, profiles={}, default_profile=None)
    return config_from_text(path, text, environ)


def _read_text(path: Path, *, missing_ok: bool) -> str | None:
    """The file's text; None when it is missing and that is fine."""
    try:
        data = read_limited(path, limit=CONFIG_LIMIT)
    except FileProblem as error:
        raise ProfileError(_FILE, str(error), "point --config at the profiles file (TOML)") from error
    except FileNotFoundError as error:
        if missing_ok:
            return None
        raise ProfileError(
            _FILE,
            f"{path} does not exist",
            "check --config, or try dwtui on its built-in simulator: `dwtui --demo` without --config",
        ) from error
    except OSError as error:
        raise ProfileError(
            _FILE,
            f"cannot read {path}: {error.strerror or error}",
            "check the path and that you may read it",
        ) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProfileError(_FILE, f"{path} is not UTF-8 text", "save it as UTF-8") from error


def config_from_text(path: Path, text: str, environ: Mapping[str, str] = os.environ) -> Config:
    """The profiles of `text`, as load_config would read them from `path`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already ends with "(at line L, column C)".
        raise ProfileError(_FILE, f"{path} is not valid TOML: {error}", "fix the syntax there") from error
    except RecursionError as error:
        # tomllib recurses once per nested array or inline table: thousands of them exhaust the stack.
        raise ProfileError(
            _FILE, f"{path} nests arrays or tables too deeply to be a profiles file", "fix the file"
        ) from error
    return _config_from(path, document, environ)


def _config_from(path: Path, document: dict[str, Any], environ: Mapping[str, str]) -> Config:
    for key in document:
        if is_secret_setting(key):
            raise ProfileError(
                key,
                "secrets are never kept in the config file",
                "remove it and store it in the OS keyring instead (dwtui secret set)",
            )
        if key not in _TOP_LEVEL:
            raise ProfileError(
                key,
                f"is not a setting of {path.name}",
                "put settings inside a [profiles.NAME] table; top level holds only default_profile",
            )
    tables = document.get("profiles", {})
    if not isinstance(tables, dict):
        raise ProfileError("profiles", "is not a table", "write each profile as [profiles.NAME]")
    profiles: dict[str, Profile] = {}
    for name, table in tables.items():
        validate_name(name)
        if not isinstance(table, dict):
            raise ProfileError(name, "is not a table of settings", f"write it as [profiles.{name}]", name)
        profiles[name] = _resolve_paths(_parse_with_overrides(name, table, environ), path.parent)
    default = document.get("default_profile")
    if default is not None:
        if not isinstance(default, str):
            raise ProfileError("default_profile", "is not text", 'write default_profile = "NAME"')
        if default not in profiles:
            raise ProfileError("default_profile", f"'{default}' is not a profile in {path}", _known(profiles))
    return Config(path=path, profiles=profiles, default_profile=default)


def _parse_with_overrides(name: str, table: dict[str, Any], environ: Mapping[str, str]) -> Profile:
    try:
        return parse_profile(name, apply_overrides(table, environ))
    except ProfileError as error:
        # A bad value that came from the environment must name the variable, not the file.
        variable = next(
            (v for v, key in ENV_OVERRIDES.items() if key == error.field_name and environ.get(v)), ""
        )
        if not variable and error.field_name == "allow_production_changes":
            variable = (
                "DWTUI_ALLOW_PRODUCTION_CHANGES" if environ.get("DWTUI_ALLOW_PRODUCTION_CHANGES") else ""
            )
        if not variable:
            raise
        raise ProfileError(
            f"{error.field_name} (from {variable})", error.problem, f"{error.fix}, or unset {variable}", name
        ) from error


def profile_as_used(
    path: Path, name: str, table: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> Profile:
    """The profile `table` would be once written to `path`: the environment laid over it, and its
    paths relative to the file's folder."""
    return _resolve_paths(_parse_with_overrides(name, dict(table), environ), Path(path).parent)


def _resolve_paths(profile: Profile, base: Path) -> Profile:
    """`~` and paths relative to the config file's folder, as a person writing the file means them."""

    def resolved(value: str) -> str:
        if not value:
            return value
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else base / path)

    return replace(
        profile, ca_bundle=resolved(profile.ca_bundle), certificate_path=resolved(profile.certificate_path)
    )


# Where a person without a profile can still see dwtui work: the simulator, in-process or standalone.
TRY_THE_DEMO = (
    "try dwtui on its built-in simulator: `dwtui --demo` (`dwtui sim --write-config PATH` writes a "
    "profile for a standalone one)"
)


def _known(profiles: Mapping[str, object]) -> str:
    if not profiles:
        return f"add a [profiles.NAME] table (README: Profiles), or {TRY_THE_DEMO}"
    return f"use one of: {', '.join(sorted(profiles))}"


def select_profile(config: Config, name: str | None) -> Profile:
    """The named profile, else the default one, else the only one."""
    if name:
        profile = config.profiles.get(name)
        if profile is None:
            raise ProfileError("profile", f"'{name}' is not in {config.path}", _known(config.profiles))
        return profile
    if config.default_profile:
        return config.profiles[config.default_profile]
    if len(config.profiles) == 1:
        return next(iter(config.profiles.values()))
    if not config.profiles:
        raise ProfileError("profile", f"no profile in {config.path}", _known(config.profiles))
    raise ProfileError(
        "profile",
        f"{config.path} has several profiles and no default_profile",
        f"choose one with --profile ({', '.join(sorted(config.profiles))}) or set default_profile",
    )


def write_config(path: Path, profiles: Mapping[str, dict[str, Any]], default_profile: str | None) -> None:
    """Write the file readable by its owner only, after checking every profile would load back."""
    for name, table in profiles.items():
        parse_profile(name, table)
    if default_profile is not None and default_profile not in profiles:
        raise ProfileError(
            "default_profile", f"'{default_profile}' is not among the profiles written", _known(profiles)
        )
    document: dict[str, Any] = {}
    if default_profile is not None:
        document["default_profile"] = default_profile
    document["profiles"] = {name: dict(table) for name, table in profiles.items()}
    _replace(Path(path), tomli_w.dumps(document))


@dataclass(frozen=True, slots=True)
class Added:
    path: Path  # the file written (a symbolic link's target)
    profile: Profile  # as the file now gives it, without the environment laid over it
    default: bool  # it is now the default_profile


def read_config_file(path: Path) -> Config:
    """The profiles as the file holds them, without the environment laid over them (a variable set
    in this shell is not in the file); an empty Config when the file does not exist yet."""
    target = _target(Path(path))
    return config_from_text(target, _read_text(target, missing_ok=True) or "", environ={})


def _target(path: Path) -> Path:
    return path.resolve() if path.is_symlink() else path  # a linked config stays linked


def add_profile(path: Path, name: str, table: Mapping[str, Any], *, make_default: bool = False) -> Added:
    """Add `[profiles.NAME]` to the file, keeping its text and comments; create the file if absent.

    The table is appended at the end. `default_profile` is set when `make_default` or when the file
    has no profile yet: its line is changed in place, or one is put before the first table. The new
    text must load back with every old profile as it was and the new one as given, or nothing is
    written; then it replaces the file at once, 0600.
    """
    target = _target(Path(path))
    text = _read_text(target, missing_ok=True) or ""
    before = config_from_text(target, text, environ={})
    if name in before.profiles:
        raise ProfileError(
            "name",
            f"'{name}' is already a profile in {target}",
            "choose another name, or change that profile's table in the file",
        )
    wanted = parse_profile(name, table)
    set_default = make_default or not before.profiles
    after_text = _appended(text, name, table)
    if set_default:
        after_text = _with_default(after_text, name, target, had_default=before.default_profile is not None)
    after = config_from_text(target, after_text, environ={})
    kept = all(after.profiles.get(old) == profile for old, profile in before.profiles.items())
    added = after.profiles.get(name)
    expected_default = name if set_default else before.default_profile
    as_wanted = added == _resolve_paths(wanted, target.parent)
    if not kept or not as_wanted or after.default_profile != expected_default:
        raise ProfileError(
            _FILE,
            f"{target} would not read back as intended with [profiles.{name}] appended",
            "add the table by hand (README: Profiles)",
        )
    _replace(target, after_text)
    assert added is not None  # checked above
    return Added(target, added, after.default_profile == name)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _appended(text: str, name: str, table: Mapping[str, Any]) -> str:
    newline = _newline(text)
    block = tomli_w.dumps({"profiles": {name: dict(table)}}).replace("\n", newline)
    if text and not text.endswith("\n"):
        text += newline
    return text + (newline if text.strip() else "") + block


# `default_profile = "NAME"` on a line of its own, maybe with a comment after it.
_DEFAULT_LINE = re.compile(
    r"""^(?P<indent>[ \t]*)default_profile[ \t]*=[ \t]*("[^"\r\n]*"|'[^'\r\n]*')"""
    r"""(?P<rest>[ \t]*(\#[^\r\n]*)?)(?=\r?\n|\Z)""",
    re.MULTILINE,
)
_TABLE_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


def _with_default(text: str, name: str, path: Path, *, had_default: bool) -> str:
    line = tomli_w.dumps({"default_profile": name}).strip()
    header = _TABLE_HEADER.search(text)
    top = text[: header.start()] if header else text  # default_profile can only be at the top level
    found = _DEFAULT_LINE.search(top)
    if found:
        return text[: found.start()] + found["indent"] + line + found["rest"] + text[found.end() :]
    if had_default:
        raise ProfileError(
            "default_profile",
            f"is written in {path} in a form dwtui does not change",
            f'write default_profile = "{name}" there yourself, or add the profile without --default',
        )
    newline = _newline(text)
    lines = top.splitlines(keepends=True)
    # Above the comment lines that sit right on top of the first table: they belong to it.
    cut = len(lines)
    while cut and lines[cut - 1].lstrip().startswith("#"):
        cut -= 1
    at = sum(len(part) for part in lines[:cut])
    return text[:at] + line + newline + newline + text[at:]


def _replace(path: Path, text: str) -> None:
    try:
        replace_private(path, text.encode("utf-8"))
    except OSError as error:
        raise ProfileError(
            _FILE,
            f"cannot write {path}: {error.strerror or error}",
            "choose another path with --config or fix the folder's permissions",
        ) from error
