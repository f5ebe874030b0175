"""acme_powerschool: a typed SDK for the PowerSchool SIS.

The public face is small and loads lazily, so `import acme_powerschool` stays fast: requests,
keyring and oracledb are imported only when the name that needs them is first used. Every
generated model (`acme_powerschool.Student`, `StudentWrite`, `WriteResult`, ...) is also a name
here, loaded from `acme_powerschool.models` on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = [
    "AccessDenied",
    "AuthenticationError",
    "BadRequest",
    "MissingFieldError",
    "MissingPasswordError",
    "NotFound",
    "OracleConnectError",
    "Pager",
    "PowerSchoolError",
    "PowerSchoolWarning",
    "RateLimited",
    "ResponseFormatError",
    "RetryPolicy",
    "SchemaOwnerWarning",
    "ServerError",
    "TableRecord",
    "__version__",
    "api",
    "odbc",
    "read_dataframe",
    "read_dataframe_batches",
]

# name -> module that defines it; resolved on first attribute access (PEP 562).
_LAZY = {
    "api": "acme_powerschool.client",
    "odbc": "acme_powerschool.shell.oracle",
    "read_dataframe": "acme_powerschool.shell.oracle",
    "read_dataframe_batches": "acme_powerschool.shell.oracle",
    "Pager": "acme_powerschool.pager",
    "TableRecord": "acme_powerschool.typed",
    "MissingFieldError": "acme_powerschool.runtime",
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
    from acme_powerschool.models import *  # noqa: F403  (every generated model, lazily below)
    from acme_powerschool.pager import Pager
    from acme_powerschool.runtime import MissingFieldError
    from acme_powerschool.shell.oracle import odbc, read_dataframe, read_dataframe_batches
    from acme_powerschool.typed import TableRecord

_MODELS = "acme_powerschool.models"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        models = importlib.import_module(_MODELS)  # its own face is lazy: no model loads here
        if name not in models.__all__:
            raise AttributeError(f"module 'acme_powerschool' has no attribute {name!r}")
        module = _MODELS
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    models = importlib.import_module(_MODELS)
    return sorted(set(globals()) | set(__all__) | set(models.__all__))
