"""Where a connection setting comes from: the command line, an `ACME_POWERSCHOOL_*` variable or
a named profile of the config file, in that order (like the aws and gh commands).

The config file is an INI file like the aws command's, `config.ini` in the user's config
folder (`click.get_app_dir`: ~/.config/acme-powerschool on Linux, ~/Library/Application
Support/acme-powerschool on macOS, %APPDATA%\\acme-powerschool on Windows), or the file
`ACME_POWERSCHOOL_CONFIG` names. `[default]` is used when no profile is chosen:

    [default]
    server = north.powerschool.com
    plugin = Acme Sync

    [profile south]
    server = sis.south.k12.example
    credential_file = ~/.config/acme-powerschool/south.json
    ca_bundle = /etc/ssl/south-ca.pem
    timeout = 60

It never holds a secret: credentials stay in the OS keyring or a credential file (`login`).
Only presentation lives here: which value the user meant and where it came from.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import click

ENV_PREFIX = "ACME_POWERSCHOOL_"
ENV_PROFILE = ENV_PREFIX + "PROFILE"
ENV_CONFIG = ENV_PREFIX + "CONFIG"
SETTINGS = ("server", "plugin", "credential_file", "ca_bundle", "timeout")
"""What a profile, a variable or a global option may set (each `--name-with-dashes`)."""
SECRET_KEYS = frozenset({"client_secret", "client_id", "access_token", "password", "secret"})


def env_name(setting: str) -> str:
    """`credential_file` -> `ACME_POWERSCHOOL_CREDENTIAL_FILE`."""
    return ENV_PREFIX + setting.upper()


def flag_name(setting: str) -> str:
    """`credential_file` -> `--credential-file`."""
    return "--" + setting.replace("_", "-")


class SettingsError(click.UsageError):
    """A setting that cannot be used, wherever it came from (exit 2)."""


@attrs.frozen
class Value:
    """One setting's value and where it came from; a lower `rank` was said more directly
    (0 the command line, 1 the environment, 2 the profile)."""

    value: Any
    source: str
    rank: int


def config_path(environ: Mapping[str, str]) -> Path:
    """The config file: $ACME_POWERSCHOOL_CONFIG, else config.ini in the user's config dir."""
    given = environ.get(ENV_CONFIG, "").strip()
    if given:
        return Path(given).expanduser()
    return Path(click.get_app_dir("acme-powerschool")) / "config.ini"


def _read_config(path: Path) -> dict[str, dict[str, str]]:
    """Profiles by name (`[default]` is "default", `[profile NAME]` is NAME)."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\0none")
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise SettingsError(f"config file {path} is not a valid INI file: {exc}") from None
    profiles: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        name = section.removeprefix("profile ").strip() if section != "default" else section
        if section != "default" and not section.startswith("profile "):
            raise SettingsError(
                f"config file {path}: section [{section}] should be [default] or [profile NAME]"
            )
        profiles[name] = _check_profile(name, dict(parser[section]), path)
    return profiles


def _check_profile(name: str, profile: dict[str, str], path: Path) -> dict[str, str]:
    secrets = sorted(key for key in profile if key.lower() in SECRET_KEYS)
    if secrets:
        raise SettingsError(
            f"profile {name!r} in {path} holds {', '.join(secrets)}: secrets never go in the "
            "config file; store them with `acme-powerschool login`"
        )
    unknown = sorted(key for key in profile if key not in SETTINGS)
    if unknown:
        raise SettingsError(
            f"profile {name!r} in {path} has unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(SETTINGS)}"
        )
    return profile


def load_profile(
    chosen: str | None, environ: Mapping[str, str]
) -> tuple[str | None, dict[str, str], Path]:
    """(profile name, its settings, config path); a profile asked for by name must exist."""
    path = config_path(environ)
    name = chosen or environ.get(ENV_PROFILE, "").strip() or None
    if name is None and not path.exists():
        return None, {}, path
    profiles = _read_config(path)
    if name is None:
        return ("default", profiles["default"], path) if "default" in profiles else (None, {}, path)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise SettingsError(f"no profile {name!r} in {path} (profiles: {known})")
    return name, profiles[name], path


def resolve(
    command_line: Mapping[str, Any], environ: Mapping[str, str], profile: str | None
) -> dict[str, Value]:
    """Every setting that was given, from the most direct source that gave it."""
    name, settings, path = load_profile(profile, environ)
    values: dict[str, Value] = {}
    for setting in SETTINGS:
        given = command_line.get(setting)
        variable = environ.get(env_name(setting), "").strip()
        if given not in (None, ""):
            values[setting] = Value(given, flag_name(setting), 0)
        elif variable:
            values[setting] = Value(variable, env_name(setting), 1)
        elif settings.get(setting) not in (None, ""):
            values[setting] = Value(settings[setting], f"profile {name!r} of {path}", 2)
    return values


def as_timeout(value: Value | None) -> float | None:
    """A positive number of seconds, or None when not given."""
    if value is None:
        return None
    try:
        seconds = float(value.value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise SettingsError(f"timeout from {value.source} must be a positive number of seconds")
    return seconds


def as_ca_bundle(value: Value | None) -> str | None:
    """A readable file of CA certificates, or None when not given."""
    if value is None:
        return None
    path = os.path.expanduser(str(value.value))
    if not os.path.isfile(path):
        raise SettingsError(f"CA bundle {path} (from {value.source}) is not a file")
    return path
