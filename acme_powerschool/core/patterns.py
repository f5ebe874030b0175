"""Which of the four credential patterns a client uses, decided from its arguments. Pure.

First match wins: `plugin` (OS keyring), `credential_file` (JSON file), `client_id` +
`client_secret`, or a bare `access_token`. Conflicting or half-given arguments are refused
with a message naming them.
"""

from __future__ import annotations

import attrs

from acme_powerschool.core.errors import AuthenticationError


@attrs.frozen
class FromKeyring:
    """Credentials in the OS keyring: service = server, name = plugin."""

    plugin: str


@attrs.frozen
class FromFile:
    """Credentials (and a cached token) in a JSON file."""

    path: str


@attrs.frozen
class FromArguments:
    """Credentials given directly (both halves, or neither when only a token is given)."""

    client_id: str | None = None
    client_secret: str | None = attrs.field(default=None, repr=False)


CredentialPattern = FromKeyring | FromFile | FromArguments


def choose_pattern(
    client_id: str | None,
    client_secret: str | None,
    credential_file: str | None,
    plugin: str | None,
) -> CredentialPattern:
    """The pattern these arguments ask for; ValueError or AuthenticationError when they
    conflict or are incomplete."""
    if plugin and credential_file:
        raise ValueError("pass either credential_file= or plugin=, not both")
    if (plugin or credential_file) and (client_id or client_secret):
        where = "plugin=" if plugin else "credential_file="
        raise ValueError(
            f"client_id/client_secret and {where} were both given; the {where} store holds "
            "the credentials, so pass one or the other"
        )
    if plugin:
        return FromKeyring(plugin)
    if credential_file:
        return FromFile(credential_file)
    if bool(client_id) != bool(client_secret):
        missing = "client_secret" if client_id else "client_id"
        raise AuthenticationError(f"{missing} is missing: pass both or neither")
    return FromArguments(client_id or None, client_secret or None)


__all__ = ["CredentialPattern", "FromArguments", "FromFile", "FromKeyring", "choose_pattern"]
