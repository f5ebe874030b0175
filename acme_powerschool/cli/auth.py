"""`login`, `logout` and `token`: store, clear and inspect a plugin's credentials in the OS
keyring or a credential file. Credentials are stored only after the server accepted them, and
neither the secret nor the token is ever printed (the token only with `token --show`).
"""

from __future__ import annotations

import datetime
import json
import os
import time
from pathlib import Path
from typing import Any

import click

from acme_powerschool.cli.common import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_CREDENTIAL_FILE,
    ENV_PLUGIN,
    EXIT_ERROR,
    EXIT_USAGE,
    CommandError,
    Connection,
    connection_options,
    echo_err,
    hidden_prompt,
    state,
)


def _store_target(conn: Connection) -> str:
    if conn.plugin:
        return "keyring"
    if conn.credential_file:
        return "file"
    raise CommandError(
        f"say where the credentials live: --plugin NAME (OS keyring) or --credential-file FILE "
        f"[env {ENV_PLUGIN} / {ENV_CREDENTIAL_FILE}]",
        EXIT_USAGE,
    )


def _service(server: str) -> str:
    """The keyring service name the client uses for this server (its host[:port])."""
    from acme_powerschool.core.config import parse_base_url

    return parse_base_url(server).netloc


def _ask_credentials() -> tuple[str, str]:
    client_id = os.environ.get(ENV_CLIENT_ID, "").strip()
    client_secret = os.environ.get(ENV_CLIENT_SECRET, "").strip()
    if not client_id:
        client_id = hidden_prompt("client id: ").strip()
    if not client_secret:
        client_secret = hidden_prompt("client secret: ").strip()
    if not client_id or not client_secret:
        raise CommandError("both a client id and a client secret are needed; nothing was stored")
    return client_id, client_secret


def _describe_expiry(expires_at: float | None, now: float) -> str:
    if expires_at is None:
        return "expiry unknown"
    when = datetime.datetime.fromtimestamp(expires_at).astimezone().isoformat(timespec="seconds")
    left = int(expires_at - now)
    if left <= 0:
        return f"expired at {when}"
    hours, rest = divmod(left, 3600)
    return f"expires at {when} (in {hours}h {rest // 60:02d}m)"


@click.command(
    help=(
        "Check a plugin's client id and secret with the server, then store them.\n\n"
        "Asks for both with hidden input (or reads two lines from stdin when it is piped; "
        f"{ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} are used when set). Nothing is stored unless "
        "the server grants a token. --plugin stores them in the OS keyring (service = server, "
        "name = plugin), --credential-file in a JSON file (mode 0600).\n\n"
        "\b\nExamples:\n"
        '  acme-powerschool login --server district.powerschool.com --plugin "My Plugin"\n'
        "  acme-powerschool login --server district.powerschool.com --credential-file creds.json"
    ),
    short_help="Check and store a plugin's credentials.",
)
@connection_options
def login(conn: Connection) -> None:
    from acme_powerschool.core.token import Credentials, TokenState

    server = conn.require_server()
    target = _store_target(conn)
    service = _service(server)
    client_id, client_secret = _ask_credentials()
    client = state().client(server, client_id=client_id, client_secret=client_secret)
    try:
        access_token = client._obtain_access_token()
    except RuntimeError as exc:
        raise CommandError(f"{exc}; nothing was stored") from None
    token = client.token_state
    if not isinstance(token, TokenState):
        token = TokenState(access_token=access_token)
    creds = Credentials(client_id, client_secret)
    if target == "keyring":
        from acme_powerschool.shell.credentials import KeyringStore

        assert conn.plugin is not None
        keyring_store = KeyringStore(service, conn.plugin)
        keyring_store.save_token(creds, token)
        where = f"the {keyring_store.description}"
    else:
        assert conn.credential_file is not None
        _write_credential_file(Path(conn.credential_file).expanduser(), creds, token)
        where = f"credential file {conn.credential_file}"
    expiry = _describe_expiry(token.expires_at, time.time())
    echo_err(f"logged in: credentials stored in {where}; token {expiry}")


def _read_json_object(path: Path) -> dict[str, Any] | None:
    """The file's JSON object; None when there is no file; CommandError when it is unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandError(f"cannot read credential file {path}: {exc.strerror or exc}") from None
    try:
        payload = json.loads(text) if text.strip() else {}
    except ValueError:
        raise CommandError(
            f"credential file {path} is not valid JSON; it was left untouched"
        ) from None
    if not isinstance(payload, dict):
        raise CommandError(
            f"credential file {path} does not hold a JSON object; it was left untouched"
        )
    return payload


def _write_credential_file(path: Path, creds: Any, token: Any) -> None:
    from acme_powerschool.shell.credentials import JsonFileStore

    if path.exists():
        _read_json_object(path)  # a malformed file is reported, never overwritten
    try:
        JsonFileStore(path).save_credentials(creds, token)
    except OSError as exc:
        raise CommandError(f"cannot write credential file {path}: {exc.strerror or exc}") from None


@click.command(
    help=(
        "Forget the stored credentials and token of a plugin.\n\n"
        "--plugin deletes the keyring entry; --credential-file removes the credential keys "
        "from the file (and the file itself when nothing else is left in it).\n\n"
        "\b\nExample:\n"
        '  acme-powerschool logout --server district.powerschool.com --plugin "My Plugin"'
    ),
    short_help="Forget stored credentials.",
)
@connection_options
def logout(conn: Connection) -> None:
    from acme_powerschool.shell.credentials import JsonFileStore, KeyringStore

    store: JsonFileStore | KeyringStore
    if _store_target(conn) == "keyring":
        assert conn.plugin is not None
        service = _service(conn.require_server())
        store = KeyringStore(service, conn.plugin, interactive=lambda: False)
    else:
        assert conn.credential_file is not None
        store = JsonFileStore(conn.credential_file)
    echo_err(store.forget().message)


@click.command(
    help=(
        "Say whether a valid token is cached for a plugin, and when it expires.\n\n"
        "Exit status 0 when a valid token is cached, 1 otherwise. The token itself is printed "
        "(on stdout, alone) only with --show.\n\n"
        "\b\nExample:\n"
        '  acme-powerschool token --server district.powerschool.com --plugin "My Plugin"'
    ),
    short_help="Show whether a valid token is cached.",
)
@click.option("--show", is_flag=True, help="Also print the token itself on stdout.")
@connection_options
def token(conn: Connection, show: bool) -> None:
    from acme_powerschool.shell.credentials import JsonFileStore, KeyringStore

    target = _store_target(conn)
    if target == "keyring":
        assert conn.plugin is not None
        store: Any = KeyringStore(
            _service(conn.require_server()), conn.plugin, interactive=lambda: False
        )
    else:
        assert conn.credential_file is not None
        store = JsonFileStore(conn.credential_file)
    stored = store.load()
    where = store.description
    cached = stored.token
    now = time.time()
    if cached is None:
        echo_err(f"no token cached in the {where}")
        click.get_current_context().exit(EXIT_ERROR)
    expired = cached.expires_at is not None and cached.expires_at <= now
    status = "expired" if expired else "valid"
    echo_err(f"{status} token cached in the {where}: {_describe_expiry(cached.expires_at, now)}")
    if show:
        click.echo(cached.access_token)
    if expired:
        click.get_current_context().exit(EXIT_ERROR)
