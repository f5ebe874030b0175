"""The `acme-powerschool` command (console script `acme_powerschool.cli:main`).

Only the console script and `python -m acme_powerschool` import this package; the library never
does. click and rich are optional (the `cli` extra), so nothing here imports them before main().
"""

from __future__ import annotations

import sys

__all__ = ["main"]

INSTALL_HINT = (
    "error: the acme-powerschool command needs click and rich: pip install 'acme-powerschool[cli]'"
)


def main(argv: list[str] | None = None) -> int:
    """Run the command with `argv` (default: sys.argv[1:]) and exit with its status."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        sys.exit(2)
    from acme_powerschool.cli.app import run

    return run(argv)
