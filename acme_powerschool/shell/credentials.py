"""Where credentials and cached tokens live: memory, a JSON file, or the OS keyring.

Shells only: they load and save what the client decided. Nothing the user stored is ever lost
or half-written: files are replaced atomically under a lock, keyring entries only with a
complete value. No secret ever reaches a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs

from acme_powerschool.core.errors import AuthenticationError, PowerSchoolWarning
from acme_powerschool.core.token import Credentials, TokenState


@attrs.frozen
class Stored:
    """What a store holds: credentials (either may be missing) and the last token."""

    client_id: str | None = None
    client_secret: str | None = attrs.field(default=None, repr=False)
    token: TokenState | None = None

    def credentials(self) -> Credentials | None:
        if self.client_id and self.client_secret:
            return Credentials(self.client_id, self.client_secret)
        return None


class CredentialStore(Protocol):
    """Loads credentials, saves refreshed tokens, and serialises refreshes."""

    description: str

    def load(self) -> Stored: ...

    def cached_token(self) -> TokenState | None: ...

    def fix_hint(self) -> str: ...

    def save_token(self, creds: Credentials, token: TokenState) -> None: ...

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]: ...


class MemoryStore:
    """Credentials given as arguments: nothing is persisted."""

    description = "arguments"

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def load(self) -> Stored:
        return self._stored

    def cached_token(self) -> TokenState | None:
        return self._stored.token

    def fix_hint(self) -> str:
        return " (check the client_id and client_secret passed to api())"

    def save_token(self, creds: Credentials, token: TokenState) -> None:
        self._stored = attrs.evolve(self._stored, token=token)

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def _token_from(mapping: dict[str, Any]) -> TokenState | None:
    token = mapping.get("access_token")
    if not isinstance(token, str) or not token.strip():
        return None
    expires = mapping.get("expires_at")
    expires_at = float(expires) if isinstance(expires, int | float) else None
    return TokenState(access_token=token, expires_at=expires_at)


def _put_token(payload: dict[str, Any], token: TokenState) -> None:
    """The token's keys in a stored value: `access_token` and, when known, `expires_at`."""
    payload["access_token"] = token.access_token
    if token.expires_at is not None:
        payload["expires_at"] = int(token.expires_at)
    else:
        payload.pop("expires_at", None)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on a sidecar file (POSIX); a no-op where flock is absent."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        # A read-only folder: no other process can write the file either, so there is
        # nothing to serialise; the refresh goes on unlocked.
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def atomic_write_json(path: Path, payload: dict[str, Any]) -> None:
    """Replace `path` with `payload` at once: temp file in the same folder, fsync, rename.

    The new file has mode 0600. A crash at any moment leaves either the old or the new file.
    """
    data = (json.dumps(payload, indent=4) + "\n").encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class JsonFileStore:
    """The credential-file pattern: `{"client_id", "client_secret", "access_token"}` in JSON.

    Every other key is kept. The token's expiry is cached as `expires_at` (epoch seconds).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.description = f"credential file {self.path}"
        self._thread_lock = threading.Lock()

    @property
    def _target(self) -> Path:
        """The real file: a symlink (to a secrets mount, say) is written through, not replaced."""
        return self.path.resolve()

    def fix_hint(self) -> str:
        return f" (fix client_id and client_secret in {self.path})"

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AuthenticationError(f"credential file not found: {self.path}") from None
        except OSError as exc:
            raise AuthenticationError(
                f"credential file {self.path} cannot be read: {exc.strerror}"
            ) from None
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise AuthenticationError(
                f"credential file {self.path} is not valid JSON "
                f"(line {getattr(exc, 'lineno', '?')}); it was left untouched"
            ) from None
        if not isinstance(payload, dict):
            raise AuthenticationError(
                f"credential file {self.path} must hold a JSON object with client_id and "
                "client_secret; it was left untouched"
            )
        return payload

    def load(self) -> Stored:
        payload = self._read()
        return Stored(
            client_id=_text(payload.get("client_id")),
            client_secret=_text(payload.get("client_secret")),
            token=_token_from(payload),
        )

    def cached_token(self) -> TokenState | None:
        return _token_from(self._read())

    def save_token(self, creds: Credentials, token: TokenState) -> None:
        """Write the token back; call under `refresh_lock()` (both callers do).

        A file that cannot be written (read-only folder or mount) costs only the cache: the
        token is still used for this run, and a warning names the file.
        """
        payload = self._read()
        target = self._target
        # Under the lock no other writer is active: a temp file left now was left by a writer
        # that was killed mid-write. It holds secrets, so it goes.
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()
        _put_token(payload, token)
        try:
            atomic_write_json(target, payload)
        except OSError as exc:
            warnings.warn(
                f"could not save the new access token to {self.path} ({exc.strerror}); "
                "it is used for this run only",
                PowerSchoolWarning,
                stacklevel=2,
            )

    def save_credentials(self, creds: Credentials, token: TokenState) -> None:
        """Store credentials and their first token (`acme-powerschool login`), creating the
        file when it does not exist yet. Every other key is kept; OSError when it cannot be
        written."""
        with self.refresh_lock():
            empty = not self.path.exists() or not self.path.read_text(encoding="utf-8").strip()
            payload = {} if empty else self._read()
            payload.update(client_id=creds.client_id, client_secret=creds.client_secret)
            _put_token(payload, token)
            atomic_write_json(self._target, payload)

    @contextlib.contextmanager
    def refresh_lock(self) -> Iterator[None]:
        target = self._target
        with self._thread_lock, _file_lock(target.with_name(f".{target.name}.lock")):
            yield


Prompt = Callable[[str], str]


def shell_word(text: str) -> str:
    """`text` as one word to paste into a shell: bare when plain, in double quotes (which
    Windows' shell understands too) when it has spaces, POSIX-quoted when it has characters
    that double quotes do not protect."""
    if text and all(ch.isalnum() or ch in "._-:/@+=," for ch in text):
        return text
    if not any(ch in text for ch in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


class KeyringStore:
    """The plugin pattern: one JSON value in the OS keyring (service=server, name=plugin)."""

    def __init__(
        self,
        service: str,
        name: str,
        *,
        prompt: Prompt | None = None,
        interactive: Callable[[], bool] | None = None,
    ) -> None:
        from acme_powerschool.shell.keyrings import load_keyring

        self.service = service
        self.name = name
        self.description = f"keyring entry {name!r} of {service!r}"
        self._keyring = load_keyring()
        self._prompt = prompt
        self._interactive = interactive or (lambda: sys.stdin is not None and sys.stdin.isatty())
        self._lock = threading.Lock()

    def _set_command(self) -> str:
        return f"python -m keyring set {shell_word(self.service)} {shell_word(self.name)}"

    def fix_hint(self) -> str:
        return (
            f"; to enter them again, clear the entry with `{self._set_command()}` (leave it blank)"
        )

    def load(self) -> Stored:
        raw = self._keyring.get_password(self.service, self.name)
        payload: dict[str, Any] = {}
        if raw and raw.strip():
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise AuthenticationError(
                    f"the {self.description} does not hold acme_powerschool's JSON value; "
                    f"run `{self._set_command()}`, leave it blank to clear it, and run again"
                )
            payload = parsed
        stored = Stored(
            client_id=_text(payload.get("client_id")),
            client_secret=_text(payload.get("client_secret")),
            token=_token_from(payload),
        )
        if stored.credentials() is None:
            stored = self._ask(stored)
        return stored

    def cached_token(self) -> TokenState | None:
        """The token in the entry, if any; never prompts."""
        raw = self._keyring.get_password(self.service, self.name)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            return None
        return _token_from(parsed) if isinstance(parsed, dict) else None

    def _ask(self, stored: Stored) -> Stored:
        if not self._interactive():
            raise AuthenticationError(
                f"no client_id/client_secret in the {self.description} and no terminal to ask "
                f"on. Store them first with `acme-powerschool login --server "
                f"{shell_word(self.service)} --plugin {shell_word(self.name)}`, or run "
                f'`{self._set_command()}` and enter {{"client_id": "...", "client_secret": "..."}}'
            )
        prompt = self._prompt
        if prompt is None:
            import getpass

            prompt = getpass.getpass
        client_id = _text(prompt(f"client_id for {self.name} on {self.service}: "))
        client_secret = _text(prompt(f"client_secret for {self.name} on {self.service}: "))
        if not client_id or not client_secret:
            raise AuthenticationError("both a client_id and a client_secret are needed")
        # Not saved yet: the entry is written only with a token, once the server accepted them.
        return Stored(client_id=client_id, client_secret=client_secret, token=None)

    def save_token(self, creds: Credentials, token: TokenState) -> None:
        """Replace the entry with a complete value, keeping any other keys it held."""
        payload: dict[str, Any] = {}
        raw = self._keyring.get_password(self.service, self.name)
        with contextlib.suppress(ValueError, TypeError):
            existing = json.loads(raw) if raw else None
            if isinstance(existing, dict):
                payload.update(existing)
        payload.update(client_id=creds.client_id, client_secret=creds.client_secret)
        _put_token(payload, token)
        self._keyring.set_password(self.service, self.name, json.dumps(payload))

    @contextlib.contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._lock:
            yield
