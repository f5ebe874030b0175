"""acme_powerschool: a typed SDK for the PowerSchool SIS.

The public face is small and loads lazily, so `import acme_powerschool` stays fast: requests,
keyring and oracledb are imported only when the name that needs them is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = [
    "AccessDenied",
    "AuthenticationError",
    "BadRequest",
    "MissingPasswordError",
    "NotFound",
    "OracleConnectError",
    "PowerSchoolError",
    "PowerSchoolWarning",
    "RateLimited",
    "ResponseFormatError",
    "RetryPolicy",
    "SchemaOwnerWarning",
    "ServerError",
    "__version__",
    "api",
    "odbc",
    "read_dataframe",
]

# name -> module that defines it; resolved on first attribute access (PEP 562).
_LAZY = {
    "api": "acme_powerschool.client",
    "odbc": "acme_powerschool.shell.oracle",
    "read_dataframe": "acme_powerschool.shell.oracle",
    "PowerSchoolWarning": "acme_powerschool.core.errors",
    "PowerSchoolError": "acme_powerschool.core.errors",
    "AuthenticationError": "acme_powerschool.core.errors",
    "NotFound": "acme_powerschool.core.errors",
    "AccessDenied": "acme_powerschool.core.errors",
    "RateLimited": "acme_powerschool.core.errors",
    "ServerError": "acme_powerschool.core.errors",
    "BadRequest": "acme_powerschool.core.errors",
    "ResponseFormatError": "acme_powerschool.core.errors",
    "RetryPolicy": "acme_powerschool.core.retry",
    "OracleConnectError": "acme_powerschool.core.oracle_dsn",
    "MissingPasswordError": "acme_powerschool.core.oracle_dsn",
    "SchemaOwnerWarning": "acme_powerschool.core.oracle_dsn",
}

if TYPE_CHECKING:
    from acme_powerschool.client import api
    from acme_powerschool.core.errors import (
        AccessDenied,
        AuthenticationError,
        BadRequest,
        NotFound,
        PowerSchoolError,
        PowerSchoolWarning,
        RateLimited,
        ResponseFormatError,
        ServerError,
    )
    from acme_powerschool.core.oracle_dsn import (
        MissingPasswordError,
        OracleConnectError,
        SchemaOwnerWarning,
    )
    from acme_powerschool.core.retry import RetryPolicy
    from acme_powerschool.shell.oracle import odbc, read_dataframe


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'acme_powerschool' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
