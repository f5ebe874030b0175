"""Loading the OS keyring lazily, with one clear error when no usable backend exists."""

from __future__ import annotations

from types import ModuleType

import attrs

NO_BACKEND_HELP = (
    "no usable keyring backend was found. Install one: on Linux `pip install secretstorage` "
    "with a running Secret Service (gnome-keyring or KWallet), or `pip install keyrings.alt` "
    "for a file-backed keyring; on Windows and macOS the system keyring works out of the box. "
    "Alternatively use credential_file= or pass the secret explicitly."
)


def load_keyring() -> ModuleType:
    """Import `keyring` and check that its active backend can store secrets.

    Raises RuntimeError naming how to get a backend when keyring is missing or its backend is
    the 'fail' backend (priority 0).
    """
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as exc:  # pragma: no cover - keyring is a hard dependency
        raise RuntimeError(f"keyring is not installed; {NO_BACKEND_HELP}") from exc
    backend = keyring.get_keyring()
    chained = getattr(backend, "backends", None)
    if isinstance(backend, fail.Keyring) or (chained is not None and not chained):
        raise RuntimeError(NO_BACKEND_HELP)
    return keyring


# Backends that keep secrets in the operating system's encrypted store (keyring's own).
ENCRYPTED_OS_STORES = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)


@attrs.frozen
class Backend:
    """The keyring backend a secret is written to: its full class name, and whether it is an
    encrypted store of the operating system."""

    name: str
    encrypted_os_store: bool

    def warning(self) -> str:
        return (
            f"the active keyring backend {self.name} is not an encrypted OS store: the secret "
            "is kept where any program running as you (and any backup) can read it. Prefer "
            "the system keyring (Secret Service, macOS Keychain, Windows Credential Locker) "
            "or a credential file with mode 0600"
        )


def describe_backend(backend: object) -> Backend:
    """Name the backend that receives new secrets (for a chain of backends, the first one,
    which is the one keyring writes to)."""
    chained = getattr(backend, "backends", None)
    if chained:
        backend = chained[0]
    cls = type(backend)
    name = f"{cls.__module__}.{cls.__qualname__}"
    return Backend(name=name, encrypted_os_store=name in ENCRYPTED_OS_STORES)
