"""Where credentials and cached tokens live: memory, a JSON file, or the OS keyring.

Shells only: they load and save what the client decided. Nothing the user stored is ever lost
or half-written: files are replaced atomically under a lock, keyring entries only with a
complete value. No secret ever reaches a message.

Files are opened without following links nobody vouched for: a symbolic link is followed
only when it belongs to us, to root or to the owner of its folder (the rule Linux applies in
sticky folders), and lock and credential files are opened with O_NOFOLLOW. A rewrite keeps
the file's owner and group, leaves read-only files alone and never replaces another user's
file; a credential file other users can read gets a warning.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import stat
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs

from acme_powerschool.core.errors import AuthenticationError, PowerSchoolWarning
from acme_powerschool.core.token import Credentials, TokenState

# The keys acme_powerschool owns in a credential file or keyring value; `forget()` removes
# exactly these and keeps everything else.
CREDENTIAL_KEYS = ("client_id", "client_secret", "access_token", "expires_at")
# Nothing legitimate in a credential file comes near this; reading more would only cost memory.
MAX_FILE_BYTES = 1 << 20
# expires_at is epoch seconds; beyond this (the year 5138) it is not a time but a broken file.
MAX_EPOCH_SECONDS = 10**11
# How long a refresh waits for another process's lock before going on without the cache.
LOCK_WAIT_SECONDS = 30.0
_MAX_LINKS = 40
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class CredentialFileRefused(OSError):
    """A credential or lock file that is deliberately not read or written; `strerror` says
    why in a sentence that names the file and never holds a secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPERM, reason)


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


@attrs.frozen
class Forgotten:
    """What `forget()` did. `changed` is False when nothing was stored; `message` says what
    happened and where, for a person (it never holds a secret)."""

    changed: bool
    message: str


class CredentialStore(Protocol):
    """Loads credentials, saves refreshed tokens, serialises refreshes, forgets."""

    description: str

    def load(self) -> Stored: ...

    def cached_token(self) -> TokenState | None: ...

    def fix_hint(self) -> str: ...

    def save_token(self, creds: Credentials, token: TokenState) -> None: ...

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]: ...

    def forget(self) -> Forgotten: ...


def _header_safe(text: str) -> bool:
    return text.isascii() and text.isprintable() and " " not in text


def check_header_token(token: TokenState) -> None:
    """Refuse, before it is stored, a token that could never be sent: a bearer token is
    visible ASCII without spaces (RFC 6750's b64token is stricter still)."""
    if not _header_safe(token.access_token):
        raise AuthenticationError(
            "the server issued an access token that is not a valid HTTP header value; "
            "it was not saved"
        )


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
        check_header_token(token)
        self._stored = attrs.evolve(self._stored, token=token)

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def forget(self) -> Forgotten:
        had = self._stored != Stored()
        self._stored = Stored()
        if had:
            return Forgotten(True, "logged out: the credentials held in memory were dropped")
        return Forgotten(False, "nothing was held in memory")


def parse_value(data: bytes | str, where: str) -> dict[str, Any]:
    """The JSON object stored in `where` (a credential file or keyring entry).

    Anything else is an AuthenticationError naming `where` and saying what is wrong, never
    quoting the content (it may hold a secret).
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise AuthenticationError(
            f"{where} is not UTF-8 text (invalid byte at offset {exc.start}); it was left untouched"
        ) from None
    try:
        payload = json.loads(text)
    except RecursionError:
        raise AuthenticationError(
            f"{where} is nested too deeply to be credentials; it was left untouched"
        ) from None
    except ValueError as exc:
        raise AuthenticationError(
            f"{where} is not valid JSON (line {getattr(exc, 'lineno', '?')}); it was left untouched"
        ) from None
    if not isinstance(payload, dict):
        raise AuthenticationError(
            f"{where} must hold a JSON object with client_id and client_secret; "
            "it was left untouched"
        )
    return payload


def _expiry(value: Any, where: str) -> float | None:
    if value is None:
        return None
    in_range = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 <= value <= MAX_EPOCH_SECONDS
    )
    if not in_range:
        raise AuthenticationError(
            f"the expires_at in the {where} is not a time in epoch seconds; remove it (the "
            "token is then used until the server refuses it) or log in again"
        )
    return float(value)


def _token_from(mapping: Mapping[str, Any], where: str) -> TokenState | None:
    """The cached token in a stored value; AuthenticationError naming `where` when the token
    or its expiry is there but unusable."""
    token = mapping.get("access_token")
    if token is None or (isinstance(token, str) and not token.strip()):
        return None
    expires_at = _expiry(mapping.get("expires_at"), where)
    if isinstance(token, str) and _header_safe(token):
        return TokenState(access_token=token, expires_at=expires_at)
    raise AuthenticationError(
        f"the access_token in the {where} is not a valid HTTP header value (visible ASCII, "
        "no spaces); remove it (a new token is fetched) or log in again"
    )


def _stored_from(mapping: Mapping[str, Any], where: str) -> Stored:
    return Stored(
        client_id=_text(mapping.get("client_id")),
        client_secret=_text(mapping.get("client_secret")),
        token=_token_from(mapping, where),
    )


def _put_token(payload: dict[str, Any], token: TokenState) -> None:
    """The token's keys in a stored value: `access_token` and, when known, `expires_at`."""
    check_header_token(token)
    payload["access_token"] = token.access_token
    if token.expires_at is not None:
        payload["expires_at"] = int(token.expires_at)
    else:
        payload.pop("expires_at", None)


def _without_credentials(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """`payload` without acme_powerschool's keys; None when it held none of them."""
    if not any(key in payload for key in CREDENTIAL_KEYS):
        return None
    return {key: value for key, value in payload.items() if key not in CREDENTIAL_KEYS}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# -- files: links, ownership, locks, atomic replacement ------------------------------------


def _euid() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return None if geteuid is None else int(geteuid())


def follow_trusted_links(path: Path) -> Path:
    """`path` with the symbolic links of its last component followed, but only links owned by
    us, by root or by the owner of their folder; CredentialFileRefused for a link planted by
    anyone else, dangling or not. Folders on the way are resolved as usual."""
    me = _euid()
    current = path
    for _ in range(_MAX_LINKS):
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break
        if not stat.S_ISLNK(info.st_mode):
            break
        if me is not None and info.st_uid not in {me, 0, os.stat(current.parent).st_uid}:
            raise CredentialFileRefused(
                f"{current} is a symbolic link owned by another user (uid {info.st_uid}); "
                "it is not followed"
            )
        current = current.parent / os.readlink(current)
    else:
        raise CredentialFileRefused(f"{path}: too many levels of symbolic links")
    return Path(os.path.realpath(current.parent)) / current.name


def read_regular_file(path: Path) -> tuple[bytes, os.stat_result] | None:
    """The bytes and status of the regular file at `path`, opened without following a link
    (and without blocking on a FIFO); None when there is none. OSError when unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CredentialFileRefused(f"{path} is not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CredentialFileRefused(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return data, info


def check_replaceable(path: Path, info: os.stat_result) -> None:
    """Refuse to replace a read-only file or (unless we are root) another user's file."""
    mode = stat.S_IMODE(info.st_mode)
    if not mode & stat.S_IWUSR:
        raise CredentialFileRefused(f"{path} is read-only (mode {mode:04o}); it was not replaced")
    me = _euid()
    if me not in (None, 0, info.st_uid):
        raise CredentialFileRefused(
            f"{path} belongs to another user (uid {info.st_uid}); it was not replaced"
        )


def _keep_owner(fd: int, path: Path, like: os.stat_result | None) -> None:
    """Give the new file the owner and group of the one it replaces (root refreshing a
    service account's file must not take it over)."""
    if like is None or not hasattr(os, "fchown"):
        return
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (like.st_uid, like.st_gid):
        return
    try:
        os.fchown(fd, like.st_uid, like.st_gid)
    except OSError:
        raise CredentialFileRefused(
            f"{path} belongs to uid {like.st_uid} / gid {like.st_gid}, which a rewrite "
            "could not keep; it was not replaced"
        ) from None


def _encode(path: Path, payload: Mapping[str, Any]) -> bytes:
    try:
        return (json.dumps(payload, indent=4) + "\n").encode("utf-8")
    except RecursionError:
        raise CredentialFileRefused(f"{path} holds values nested too deeply to rewrite") from None


def atomic_write_json(
    path: Path, payload: Mapping[str, Any], like: os.stat_result | None = None
) -> None:
    """Replace `path` with `payload` at once: temp file in the same folder, fsync, rename.

    The new file has mode 0600 and, when `like` (the replaced file's status) is given, its
    owner and group. A crash at any moment leaves either the old or the new file.
    """
    data = _encode(path, payload)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            _keep_owner(handle.fileno(), path, like)
            os.chmod(tmp, 0o600)
            os.fsync(handle.fileno())
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


def _flock_within(fd: int, wait: float) -> bool:
    """Take an exclusive flock on `fd`, giving up after `wait` seconds."""
    import fcntl

    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 0.1)


def _open_lock(path: Path, owners: set[int]) -> tuple[int | None, str | None]:
    """(fd, None) for a lock file we may use, (None, reason) for one we must not, and
    (None, None) when it cannot be created (a read-only folder: nobody can write there)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, f"the lock file {path} is a symbolic link, which is never followed"
        return None, None
    owner = os.fstat(fd).st_uid
    if _euid() is not None and owner not in owners:
        os.close(fd)
        return None, f"the lock file {path} belongs to another user (uid {owner})"
    return fd, None


@contextlib.contextmanager
def file_lock(path: Path, *, wait: float, owners: set[int]) -> Iterator[str | None]:
    """An exclusive advisory lock on a sidecar file (POSIX flock; a no-op elsewhere).

    Yields None when the lock is held (or there is nothing to serialise), otherwise the
    reason it is not: the file is a link or another user's, or another process kept it
    longer than `wait` seconds. The caller then goes on without writing.
    """
    if sys.platform == "win32":  # pragma: no cover - no flock on Windows
        yield None
        return
    fd, refused = _open_lock(path, owners)
    if fd is None:
        yield refused
        return
    try:
        if not _flock_within(fd, wait):
            yield f"another process held the lock file {path} for more than {wait:g} s"
            return
        yield None
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class JsonFileStore:
    """The credential-file pattern: `{"client_id", "client_secret", "access_token"}` in JSON.

    Every other key is kept. The token's expiry is cached as `expires_at` (epoch seconds).
    `lock_wait` bounds how long a refresh waits for another process holding the lock.
    """

    lock_wait: float = LOCK_WAIT_SECONDS

    def __init__(self, path: str | os.PathLike[str], *, lock_wait: float | None = None) -> None:
        self.path = Path(path).expanduser()
        self.description = f"credential file {self.path}"
        if lock_wait is not None:
            self.lock_wait = lock_wait
        self._thread_lock = threading.Lock()
        self._unlocked: str | None = None
        self._warned_mode = False

    @property
    def _target(self) -> Path:
        """The real file: a trusted symlink (to a secrets mount, say) is written through,
        not replaced; an untrusted one is refused (CredentialFileRefused)."""
        return follow_trusted_links(self.path)

    def fix_hint(self) -> str:
        return f" (fix client_id and client_secret in {self.path})"

    def _read_raw(self, *, empty_ok: bool) -> tuple[dict[str, Any], os.stat_result] | None:
        """The file's JSON object and status, None when there is no file; an
        AuthenticationError naming the file for anything unusable (an empty file is `{}`
        when `empty_ok`)."""
        try:
            found = read_regular_file(self._target)
        except OSError as exc:
            raise AuthenticationError(
                f"credential file {self.path} cannot be read: {exc.strerror or exc}"
            ) from None
        if found is None:
            return None
        data, info = found
        if empty_ok and not data.strip():
            return {}, info
        return parse_value(data, self.description), info

    def _read(self) -> tuple[dict[str, Any], os.stat_result]:
        found = self._read_raw(empty_ok=False)
        if found is None:
            raise AuthenticationError(f"credential file not found: {self.path}")
        payload, info = found
        self._warn_if_exposed(payload, info)
        return payload, info

    def _warn_if_exposed(self, payload: Mapping[str, Any], info: os.stat_result) -> None:
        mode = stat.S_IMODE(info.st_mode)
        secret = payload.get("client_secret") or payload.get("access_token")
        if self._warned_mode or os.name == "nt" or not secret:
            return
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            self._warned_mode = True
            warnings.warn(
                f"credential file {self.path} can be read by other users (mode {mode:04o}); "
                f"protect it with: chmod 600 {shlex.quote(str(self.path))}",
                PowerSchoolWarning,
                stacklevel=4,
            )

    def load(self) -> Stored:
        return _stored_from(self._read()[0], self.description)

    def cached_token(self) -> TokenState | None:
        return _token_from(self._read()[0], self.description)

    def _write(self, payload: Mapping[str, Any], info: os.stat_result | None) -> None:
        target = self._target
        if info is not None:
            check_replaceable(self.path, info)
        # Under the lock no other writer is active: a temp file left now was left by a writer
        # that was killed mid-write. It holds secrets, so it goes.
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()
        atomic_write_json(target, payload, info)

    def save_token(self, creds: Credentials, token: TokenState) -> None:
        """Write the token back; call under `refresh_lock()` (both callers do).

        A file that cannot or must not be written (read-only file, folder or mount, another
        user's file, a lock held too long) costs only the cache: the token is still used for
        this run, and a warning names the file and the reason.
        """
        payload, info = self._read()
        _put_token(payload, token)
        try:
            if self._unlocked:
                raise CredentialFileRefused(self._unlocked)
            self._write(payload, info)
        except OSError as exc:
            warnings.warn(
                f"could not save the new access token to {self.path} ({exc.strerror}); "
                "it is used for this run only",
                PowerSchoolWarning,
                stacklevel=2,
            )

    def save_credentials(self, creds: Credentials, token: TokenState) -> None:
        """Store credentials and their first token (`acme-powerschool login`), creating the
        file when it does not exist yet. Every other key is kept; OSError (with a `strerror`
        naming the reason) when it cannot or must not be written."""
        with self.refresh_lock():
            if self._unlocked:
                raise CredentialFileRefused(self._unlocked)
            found = self._read_raw(empty_ok=True)
            payload, info = found if found is not None else ({}, None)
            payload.update(client_id=creds.client_id, client_secret=creds.client_secret)
            _put_token(payload, token)
            self._write(payload, info)

    def forget(self) -> Forgotten:
        """Remove the credentials and cached token (`acme-powerschool logout`).

        Other keys are kept; a file left with nothing else is deleted, unless it is the
        target of a symbolic link: then the link and the (now credential-free) file both
        stay, so no link is ever left pointing at a secret. AuthenticationError naming the
        file and the reason when it cannot or must not be changed.
        """
        with self.refresh_lock():
            if self._unlocked:
                raise AuthenticationError(f"{self.description} was left as it is: {self._unlocked}")
            found = self._read_raw(empty_ok=True)
            rest = None if found is None else _without_credentials(found[0])
            if found is None or rest is None:
                return Forgotten(False, f"nothing was stored in {self.path}")
            try:
                return self._remove(rest, found[1])
            except OSError as exc:
                raise AuthenticationError(
                    f"could not remove the credentials from {self.path}: {exc.strerror or exc}"
                ) from None

    def _remove(self, rest: dict[str, Any], info: os.stat_result) -> Forgotten:
        target = self._target
        linked = target != Path(os.path.realpath(self.path.parent)) / self.path.name
        where = f"{self.path} (a link to {target})" if linked else str(self.path)
        if rest or linked:
            self._write(rest, info)
            kept = "its other keys were kept" if rest else "the link and the file were kept"
            return Forgotten(True, f"logged out: credentials removed from {where}; {kept}")
        check_replaceable(self.path, info)
        target.unlink()
        with contextlib.suppress(OSError):
            target.with_name(f".{target.name}.lock").unlink()
        return Forgotten(True, f"logged out: {where} deleted")

    @contextlib.contextmanager
    def refresh_lock(self) -> Iterator[None]:
        target = self._target
        owners = {owner for owner in (_euid(), 0) if owner is not None}
        with contextlib.suppress(OSError):
            owners.add(os.stat(target).st_uid)
        lock = target.with_name(f".{target.name}.lock")
        with self._thread_lock, file_lock(lock, wait=self.lock_wait, owners=owners) as problem:
            self._unlocked = problem
            try:
                yield
            finally:
                self._unlocked = None


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
    """The plugin pattern: one JSON value in the OS keyring (service=server, name=plugin).

    `backend` names the active keyring backend; saving a secret into one that is not an
    encrypted OS store (keyrings.alt's PlaintextKeyring, say) warns once.
    """

    def __init__(
        self,
        service: str,
        name: str,
        *,
        prompt: Prompt | None = None,
        interactive: Callable[[], bool] | None = None,
    ) -> None:
        from acme_powerschool.shell.keyrings import describe_backend, load_keyring

        self.service = service
        self.name = name
        self._keyring = load_keyring()
        self.backend = describe_backend(self._keyring.get_keyring())
        self.description = f"keyring entry {name!r} of {service!r} ({self.backend.name})"
        self._prompt = prompt
        self._interactive = interactive or (lambda: sys.stdin is not None and sys.stdin.isatty())
        self._lock = threading.Lock()
        self._warned_backend = False

    def _set_command(self) -> str:
        return f"python -m keyring set {shell_word(self.service)} {shell_word(self.name)}"

    def fix_hint(self) -> str:
        return (
            f"; to enter them again, clear the entry with `{self._set_command()}` (leave it blank)"
        )

    def _value(self) -> dict[str, Any]:
        """The entry's JSON object ({} when empty); AuthenticationError for anything else."""
        raw = self._keyring.get_password(self.service, self.name)
        if not raw or not raw.strip():
            return {}
        try:
            return parse_value(raw, f"the {self.description}")
        except AuthenticationError:
            raise AuthenticationError(
                f"the {self.description} does not hold acme_powerschool's JSON value; "
                f"run `{self._set_command()}`, leave it blank to clear it, and run again"
            ) from None

    def load(self) -> Stored:
        stored = _stored_from(self._value(), self.description)
        if stored.credentials() is None:
            stored = self._ask(stored)
        return stored

    def cached_token(self) -> TokenState | None:
        """The token in the entry, if any and usable; never prompts."""
        try:
            return _token_from(self._value(), self.description)
        except AuthenticationError:
            return None

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

    def _warn_if_plaintext(self) -> None:
        if self.backend.encrypted_os_store or self._warned_backend:
            return
        self._warned_backend = True
        warnings.warn(self.backend.warning(), PowerSchoolWarning, stacklevel=3)

    def save_token(self, creds: Credentials, token: TokenState) -> None:
        """Replace the entry with a complete value, keeping any other keys it held."""
        payload: dict[str, Any] = {}
        with contextlib.suppress(AuthenticationError):
            payload.update(self._value())
        payload.update(client_id=creds.client_id, client_secret=creds.client_secret)
        _put_token(payload, token)
        self._warn_if_plaintext()
        self._keyring.set_password(self.service, self.name, json.dumps(payload))

    def forget(self) -> Forgotten:
        """Remove the credentials and cached token from the entry (`acme-powerschool
        logout`): the entry is deleted, or rewritten without them when it holds other keys.
        A value that is not ours is left alone (AuthenticationError)."""
        from keyring.errors import PasswordDeleteError

        rest = _without_credentials(self._value())
        where = f"{self.description}"
        if rest is None:
            return Forgotten(False, f"nothing was stored in the {where}")
        if rest:
            self._keyring.set_password(self.service, self.name, json.dumps(rest))
            return Forgotten(True, f"logged out: credentials removed from the {where}")
        with contextlib.suppress(PasswordDeleteError):  # deleted meanwhile: same result
            self._keyring.delete_password(self.service, self.name)
        return Forgotten(True, f"logged out: the {where} was deleted")

    @contextlib.contextmanager
    def refresh_lock(self) -> Iterator[None]:
        with self._lock:
            yield
