"""odbc() and read_dataframe(): connect to PowerSchool's Oracle database and read query results.

The I/O shell only (oracledb, keyring, the password prompt); the rules live in core.oracle_dsn.
It must not import oracledb, keyring, pandas, pyarrow or polars at module import time.
"""

from __future__ import annotations

import functools
import getpass
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from acme_powerschool.core.oracle_dsn import (
    DEFAULT_DATABASE,
    DEFAULT_PORT,
    DEFAULT_TUNING,
    ConnectionParts,
    ConnectProblem,
    MissingPasswordError,
    OracleConnectError,
    SchemaOwnerWarning,
    build_dsn,
    classify_connect_error,
    connect_error_message,
    missing_password_message,
    resolve_parts,
)
from acme_powerschool.shell.keyrings import load_keyring

if TYPE_CHECKING:
    import oracledb

__all__ = [
    "MissingPasswordError",
    "OracleConnectError",
    "SchemaOwnerWarning",
    "odbc",
    "read_dataframe",
    "read_dataframe_batches",
]

DataFrameKind = Literal["pandas", "polars", "arrow"]
_KINDS: tuple[str, ...] = ("pandas", "polars", "arrow")
# odbc() sets these itself; passing them again through **kwargs would be ambiguous.
_RESERVED = frozenset({"user", "password", "dsn", "host", "port", "service_name", "sid"})


@functools.cache
def _tuned_connection_class(
    base: type[oracledb.Connection], arraysize: int, prefetchrows: int
) -> type[oracledb.Connection]:
    """A Connection subclass whose cursors start with our fetch sizes (one class per tuning).

    Tuning per connection instead of through `oracledb.defaults` keeps the rest of the
    process (other libraries using oracledb) untouched.
    """

    def cursor(self: oracledb.Connection, *args: Any, **kwargs: Any) -> oracledb.Cursor:
        cur = base.cursor(self, *args, **kwargs)
        cur.arraysize = arraysize
        cur.prefetchrows = prefetchrows
        return cur

    name = f"Tuned{base.__name__}"
    namespace = {
        "__module__": __name__,  # oracledb's metaclass builds the repr name from these two
        "__qualname__": name,
        "cursor": cursor,
        "acme_arraysize": arraysize,
        "acme_prefetchrows": prefetchrows,
        "__doc__": f"oracledb.Connection with arraysize={arraysize}, prefetchrows={prefetchrows}",
    }
    return type(name, (base,), namespace)


def _stdin_is_terminal() -> bool:
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdin
        return False


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _connect_error(
    exc: BaseException, parts: ConnectionParts, *, timeout: float, from_keyring: bool
) -> OracleConnectError:
    chain = _exception_chain(exc)
    texts = [str(e) for e in chain]
    problem = classify_connect_error(texts, [type(e).__name__ for e in chain])
    summary = texts[0].splitlines()[0] if texts and texts[0] else type(exc).__name__
    message = connect_error_message(
        problem,
        parts,
        timeout=timeout,
        password_from_keyring=from_keyring,
        driver_summary=summary,
    )
    return OracleConnectError(message, problem=problem)


class _NoAnswer(Exception):
    """The whole connect outlived its deadline (our own signal, never a driver error)."""


class _BoundedConnect:
    """One connect run in a helper thread so that the caller waits at most `seconds`.

    oracledb's thin driver bounds only the TCP connect (`tcp_connect_timeout`); a listener
    that accepts and never answers would hold the caller forever. On time-out the helper is
    abandoned: should its connect ever finish, the connection is closed, never leaked.
    """

    def __init__(self, connect: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self._connect = connect
        self._kwargs = kwargs
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self._result: Any = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            result, error = self._connect(**self._kwargs), None
        except BaseException as exc:
            result, error = None, exc
        with self._lock:
            if self._abandoned:
                if result is not None:
                    result.close()
                return
            self._result, self._error = result, error
            self._done.set()

    def within(self, seconds: float) -> Any:
        """The connection; _NoAnswer after `seconds`; the connect's own error as it is."""
        threading.Thread(target=self._run, name="acme-oracle-connect", daemon=True).start()
        if not self._done.wait(seconds):
            with self._lock:
                if not self._done.is_set():
                    self._abandoned = True
                    raise _NoAnswer
        if self._error is not None:
            raise self._error
        return self._result


def odbc(
    server: str | None = None,
    user: str | None = None,
    password: str | None = None,
    port: int | str = DEFAULT_PORT,
    database: str = DEFAULT_DATABASE,
    connectionstring: str | None = None,
    *,
    sid: str | bool | None = None,
    arraysize: int = DEFAULT_TUNING.arraysize,
    prefetchrows: int = DEFAULT_TUNING.prefetchrows,
    tcp_connect_timeout: float = DEFAULT_TUNING.tcp_connect_timeout,
    connect_timeout: float = DEFAULT_TUNING.connect_timeout,
    connect: Callable[..., oracledb.Connection] | None = None,
    **kwargs: Any,
) -> oracledb.Connection:
    """Connect to PowerSchool's Oracle database (python-oracledb thin mode, no Oracle client).

    Give either `server` and `user` (port 1521 and service psproddb by default) or a complete
    `connectionstring` `user[/password]@server:port/database` (`server:port:SID` for a SID).
    `database` is a service name; `sid=True` treats it as a SID, `sid="NAME"` names the SID.

    Without a password, it is read from the OS keyring (service = server, name = user). When
    none is stored it is asked for with getpass, and stored only after the connection
    succeeded; without a terminal, MissingPasswordError says which command stores it.

    `arraysize`, `prefetchrows` (applied to every cursor) and `tcp_connect_timeout` are tuned
    for reporting; `connect_timeout` bounds the whole connect (a listener that accepts and
    never answers gives OracleConnectError after that many seconds). Other keywords go to
    `oracledb.connect` (or to `connect`, which tests inject). Returns the connection: use it
    as a context manager or with pandas.read_sql.
    Raises OracleConnectError (a RuntimeError) with a specific message when connecting fails;
    the oracledb exception is its `__cause__`.
    """
    parts = resolve_parts(
        server=server,
        user=user,
        password=password,
        port=port,
        database=database,
        connectionstring=connectionstring,
        sid=sid,
    )
    clash = sorted(_RESERVED & kwargs.keys())
    if clash:
        raise TypeError(f"odbc() sets {', '.join(clash)} itself; pass them as its own arguments")
    if parts.is_schema_owner:
        warnings.warn(
            "connecting as PS, PowerSchool's schema owner: use a read-only Oracle account "
            "for reports and scripts",
            SchemaOwnerWarning,
            stacklevel=2,
        )
    import oracledb

    base_class = kwargs.pop("conn_class", oracledb.Connection)
    options: dict[str, Any] = {
        "dsn": build_dsn(parts),
        "tcp_connect_timeout": tcp_connect_timeout,
        "conn_class": _tuned_connection_class(base_class, arraysize, prefetchrows),
        **kwargs,
    }
    do_connect = oracledb.connect if connect is None else connect

    def attempt(secret: str, *, from_keyring: bool) -> oracledb.Connection:
        call = _BoundedConnect(do_connect, {"user": parts.user, "password": secret, **options})
        try:
            connection: oracledb.Connection = call.within(connect_timeout)
            return connection
        except _NoAnswer:
            message = connect_error_message(
                ConnectProblem.NO_ANSWER, parts, timeout=connect_timeout
            )
            raise OracleConnectError(message, problem=ConnectProblem.NO_ANSWER) from None
        except (oracledb.Error, OSError) as exc:
            raise _connect_error(
                exc, parts, timeout=tcp_connect_timeout, from_keyring=from_keyring
            ) from exc

    if parts.password is not None:
        return attempt(parts.password, from_keyring=False)

    keyring = load_keyring()
    stored = keyring.get_password(parts.server, parts.user)
    if stored:  # an empty value is how `python -m keyring set` clears it
        return attempt(stored, from_keyring=True)
    if not _stdin_is_terminal():
        raise MissingPasswordError(missing_password_message(parts))
    typed = getpass.getpass(f"Oracle password for {parts.user} on {parts.server}: ")
    if not typed:
        raise ValueError("no password entered")
    conn = attempt(typed, from_keyring=False)
    try:
        keyring.set_password(parts.server, parts.user, typed)
    except Exception as exc:  # the connection is good; failing to cache must not lose it
        warnings.warn(
            f"connected, but could not store the password in the keyring "
            f"({type(exc).__name__}); you will be asked again next time",
            RuntimeWarning,
            stacklevel=2,
        )
    return conn


def _check_query(sql: str, params: Mapping[str, Any] | None, to: str) -> dict[str, Any] | None:
    if not isinstance(sql, str):
        raise TypeError(f"sql must be a str, not {type(sql).__name__}")
    if to not in _KINDS:
        raise ValueError(f"to must be one of {', '.join(map(repr, _KINDS))}, not {to!r}")
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise TypeError(
            "params must be a mapping of named binds, e.g. {'school': 100} for "
            f"'... where school_number = :school', not {type(params).__name__}"
        )
    return dict(params)


def _convert(arrow_data: Any, to: str) -> Any:
    """Arrow data (anything with __arrow_c_stream__) -> the requested frame, no Python rows."""
    if to == "polars":
        import polars

        # polars.from_arrow() on a stream object returns a Series in current polars.
        return polars.DataFrame(arrow_data)
    import pyarrow

    table = pyarrow.table(arrow_data)
    return table if to == "arrow" else table.to_pandas()


def _default_arraysize(conn: Any) -> int:
    value = getattr(conn, "acme_arraysize", DEFAULT_TUNING.arraysize)
    return value if isinstance(value, int) else DEFAULT_TUNING.arraysize


def read_dataframe(
    conn: oracledb.Connection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    to: DataFrameKind = "pandas",
    arraysize: int | None = None,
) -> Any:
    """Run `sql` and return all rows as a pandas or polars DataFrame, or a pyarrow Table.

    Uses oracledb's Arrow fetch (`fetch_df_all`): no row-by-row Python objects. Values go in
    as named binds only: `params` is a mapping (`{"school": 100}` for `:school`); a sequence
    is refused with TypeError. pandas, pyarrow and polars are imported only when needed.
    """
    binds = _check_query(sql, params, to)
    size = _default_arraysize(conn) if arraysize is None else arraysize
    odf = conn.fetch_df_all(statement=sql, parameters=binds, arraysize=size)
    return _convert(odf, to)


def read_dataframe_batches(
    conn: oracledb.Connection,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    to: DataFrameKind = "arrow",
    size: int | None = None,
) -> Iterator[Any]:
    """Like read_dataframe, but yields one frame per `size` rows (`fetch_df_batches`).

    For results too large to hold at once: only one batch is in memory at a time.
    """
    binds = _check_query(sql, params, to)
    batch_size = _default_arraysize(conn) if size is None else size
    return (
        _convert(batch, to)
        for batch in conn.fetch_df_batches(statement=sql, parameters=binds, size=batch_size)
    )
