"""odbc()'s error mapping, run on genuine python-oracledb exceptions from the real thin driver.

No Oracle database runs here. The driver talks to 127.0.0.1 only: a closed port, a listener
whose backlog is full, and a fake TNS listener (oracle_fake_tns) that refuses the connect the
way a real listener does. Only the wrong-password case (ORA-01017) is built by hand, because
reaching it needs a full login handshake.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import oracledb
import pytest
from oracle_fake_tns import (
    FakeTnsListener,
    SilentListener,
    accept_requiring_native_encryption,
    closed_port,
    refuse_packet,
    run_with_deadline,
)
from oracledb import errors as driver_errors

from acme_powerschool.core.oracle_dsn import ConnectProblem, OracleConnectError
from acme_powerschool.shell.oracle import odbc

PASSWORD = "Tr0ub4dor&3-secret"


def _chain_codes(exc: BaseException) -> set[str]:
    codes = set()
    current: BaseException | None = exc
    while current is not None:
        error = current.args[0] if current.args else None
        code = getattr(error, "full_code", "")
        if code:
            codes.add(code)
        current = current.__cause__
    return codes


def _assert_clean(err: OracleConnectError) -> None:
    """Our message and the whole chain's text never carry the password."""
    current: BaseException | None = err
    while current is not None:
        assert PASSWORD not in str(current)
        assert PASSWORD not in repr(current)
        current = current.__cause__ or current.__context__


def test_closed_port_is_reported_as_refused() -> None:
    """A real ConnectionRefusedError (inside DPY-6005) becomes the 'refused on port' message."""
    port = closed_port()
    with pytest.raises(OracleConnectError) as info:
        run_with_deadline(
            lambda: odbc("127.0.0.1", "reader", PASSWORD, port=port, tcp_connect_timeout=2)
        )
    err = info.value
    assert err.problem is ConnectProblem.PORT_REFUSED
    assert str(err).startswith(f"127.0.0.1 refused the connection on port {port}")
    assert isinstance(err.__cause__, oracledb.OperationalError)
    assert "DPY-6005" in _chain_codes(err)
    _assert_clean(err)


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A listener that never accepts and whose backlog is full, so new SYNs go unanswered.

    Linux drops a SYN when the accept queue is full, which looks like an unreachable host
    without leaving loopback. Skips where the kernel behaves otherwise.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", port))
    except TimeoutError:
        pass
    else:
        pytest.skip("this kernel completes connects to a full backlog; cannot fake a timeout")
    finally:
        probe.close()
    yield port
    for sock in [*fillers, listener]:
        sock.close()


def test_unanswered_connect_is_reported_as_unreachable(full_backlog_port: int) -> None:
    """A real connect timeout (TimeoutError inside DPY-6005) gets the 'unreachable' message,
    and tcp_connect_timeout bounds the wait."""
    with pytest.raises(OracleConnectError) as info:
        run_with_deadline(
            lambda: odbc(
                "127.0.0.1", "reader", PASSWORD, port=full_backlog_port, tcp_connect_timeout=0.5
            )
        )
    err = info.value
    assert err.problem is ConnectProblem.HOST_UNREACHABLE
    assert "did not answer within 0.5 seconds" in str(err)
    _assert_clean(err)


def test_unknown_service_says_try_the_sid_form() -> None:
    """The listener's ORA-12514 refusal surfaces from the real driver as DPY-6001; our message
    suggests sid=True. The wire also shows we asked for SERVICE_NAME=psproddb."""
    with (
        FakeTnsListener(refuse_packet(12514)) as listener,
        pytest.raises(OracleConnectError) as info,
    ):
        run_with_deadline(lambda: odbc("127.0.0.1", "reader", PASSWORD, port=listener.port))
    err = info.value
    assert err.problem is ConnectProblem.SERVICE_UNKNOWN
    assert "DPY-6001" in _chain_codes(err)
    assert "(SERVICE_NAME=psproddb)" in listener.connect_data
    assert "sid=True" in str(err)
    assert "service name 'psproddb'" in str(err)
    assert PASSWORD not in listener.connect_data
    _assert_clean(err)


def test_unknown_sid_says_try_the_service_form() -> None:
    """ORA-12505 from the listener arrives as DPY-6003 when we asked for a SID; our message
    suggests the service-name form. The wire shows SID=PSPROD was requested."""
    with (
        FakeTnsListener(refuse_packet(12505)) as listener,
        pytest.raises(OracleConnectError) as info,
    ):
        run_with_deadline(
            lambda: odbc("127.0.0.1", "reader", PASSWORD, port=listener.port, sid="PSPROD")
        )
    err = info.value
    assert err.problem is ConnectProblem.SID_UNKNOWN
    assert "DPY-6003" in _chain_codes(err)
    assert "(SID=PSPROD)" in listener.connect_data
    assert "without sid=" in str(err)
    _assert_clean(err)


def test_native_network_encryption_names_the_fix() -> None:
    """A server demanding NNE makes the thin driver raise DPY-3001 (as the cause of DPY-6005);
    our message names TLS and thick mode with oracledb.init_oracle_client()."""
    with (
        FakeTnsListener(accept_requiring_native_encryption()) as listener,
        pytest.raises(OracleConnectError) as info,
    ):
        run_with_deadline(lambda: odbc("127.0.0.1", "reader", PASSWORD, port=listener.port))
    err = info.value
    assert err.problem is ConnectProblem.NATIVE_ENCRYPTION
    assert "DPY-3001" in _chain_codes(err)
    assert "TLS" in str(err)
    assert "oracledb.init_oracle_client()" in str(err)
    _assert_clean(err)


def test_other_listener_refusals_fall_back_to_the_driver_summary() -> None:
    """An unrecognised refusal (ORA-12520, no handler available) is still our error type, with
    the driver's first line and the original exception as the cause."""
    with (
        FakeTnsListener(refuse_packet(12520)) as listener,
        pytest.raises(OracleConnectError) as info,
    ):
        run_with_deadline(lambda: odbc("127.0.0.1", "reader", PASSWORD, port=listener.port))
    err = info.value
    assert err.problem is None
    assert str(err).startswith(f"could not connect to Oracle at 127.0.0.1:{listener.port}: DPY-")
    assert isinstance(err.__cause__, oracledb.Error)
    _assert_clean(err)


def _driver_style_database_error(message: str, code: int) -> oracledb.DatabaseError:
    """A server error built the way the thin driver builds one from an error packet: an
    oracledb.errors._Error carrying the code, wrapped in the exception class it selects.
    (Private API of python-oracledb, used only because a real login cannot run here.)"""
    error = driver_errors._Error(message, code=code)
    exc: oracledb.DatabaseError = error.exc_type(error)
    return exc


def test_wrong_password_message_from_a_driver_built_ora_01017() -> None:
    """ORA-01017 (constructed, not from a server) maps to one short wrong-password message."""
    exc = _driver_style_database_error(
        "ORA-01017: invalid credential or not authorized; logon denied", 1017
    )

    def refuse(**kwargs: object) -> oracledb.Connection:
        raise exc

    with pytest.raises(OracleConnectError) as info:
        odbc("ps.example.org", "reader", PASSWORD, connect=refuse)
    err = info.value
    assert err.problem is ConnectProblem.WRONG_PASSWORD
    assert (
        str(err)
        == "Oracle refused the user name or password for 'reader' on ps.example.org (ORA-01017)."
    )
    assert err.__cause__ is exc
    _assert_clean(err)


def test_unresolvable_host_from_a_constructed_gaierror() -> None:
    """The driver lets socket.gaierror escape unwrapped for a bad host name (seen with a real
    lookup while writing this); resolving names would leave loopback, so it is constructed."""

    def fail(**kwargs: object) -> oracledb.Connection:
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(OracleConnectError) as info:
        odbc("no-such-host.example", "reader", PASSWORD, connect=fail)
    assert info.value.problem is ConnectProblem.HOST_UNKNOWN
    assert "'no-such-host.example' could not be resolved" in str(info.value)


def test_a_listener_that_never_answers_is_a_clear_timeout() -> None:
    """Issue 11 item 8: the thin driver bounds only the TCP connect; a listener that accepts
    and stays silent used to hold odbc() forever. connect_timeout bounds the whole connect."""
    with SilentListener() as listener:
        with pytest.raises(OracleConnectError) as info:
            run_with_deadline(
                lambda: odbc(
                    "127.0.0.1", "reader", PASSWORD, port=listener.port, connect_timeout=0.5
                )
            )
        assert listener.accepted == 1
    err = info.value
    assert err.problem is ConnectProblem.NO_ANSWER
    assert str(err) == (
        f"127.0.0.1:{listener.port} accepted the connection but did not complete the Oracle "
        "login within 0.5 seconds: check that an Oracle listener (not a proxy or another "
        "service) answers on that port (connect_timeout= sets the wait)."
    )
    _assert_clean(err)
