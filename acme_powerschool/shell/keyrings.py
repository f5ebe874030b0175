"""Loading the OS keyring lazily, with one clear error when no usable backend exists."""

from __future__ import annotations

from types import ModuleType

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
