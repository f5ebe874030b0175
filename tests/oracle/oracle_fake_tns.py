"""A loopback TCP listener that speaks just enough of Oracle's TNS protocol to refuse a connect.

Test support only: it binds 127.0.0.1, serves one connection with bounded timeouts, and never
sleeps. It answers the thin driver's CONNECT packet with one REFUSE or ACCEPT packet.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

# TNS packet types (the first byte after the 4-byte length/checksum prefix of the header).
CONNECT, ACCEPT, REFUSE, DATA = 1, 2, 4, 6
# Until the ACCEPT negotiates "large SDU", a packet header is: length (2 bytes, big-endian,
# header included), packet checksum (2), type (1), flags (1), header checksum (2).
_HEADER = struct.Struct(">HHBBH")
# ACCEPT body flag (byte 14 of the body, found by experiment against python-oracledb 26.1's
# thin driver): the server requires Native Network Encryption / data integrity ("NA").
NSI_NA_REQUIRED = 0x10
# A TNS version the thin driver accepts (it refuses anything older than 12.1's 315).
TNS_VERSION = 319


def packet(packet_type: int, body: bytes) -> bytes:
    return _HEADER.pack(_HEADER.size + len(body), 0, packet_type, 0, 0) + body


def refuse_packet(oracle_error: int) -> bytes:
    """A listener REFUSE carrying `ORA-<oracle_error>` the way a real listener words it.

    Body: user reason (1 byte), system reason (1), data length (2), then the descriptor text;
    the driver reads the number after `(ERR=`.
    """
    text = (
        f"(DESCRIPTION=(TMP=)(VSNNUM=0)(ERR={oracle_error})"
        f"(ERROR_STACK=(ERROR=(CODE={oracle_error})(EMFI=4))))"
    ).encode("ascii")
    return packet(REFUSE, bytes([1, 0]) + struct.pack(">H", len(text)) + text)


def accept_requiring_native_encryption() -> bytes:
    """An ACCEPT whose NSI flags say the server requires Native Network Encryption.

    Body: version (2 bytes), service options (2), 10 bytes the driver skips, the NSI flags
    byte, then fields the driver never reaches because it stops at the flag.
    """
    body = bytearray(40)
    body[0:2] = struct.pack(">H", TNS_VERSION)
    body[14] = NSI_NA_REQUIRED
    return packet(ACCEPT, bytes(body))


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError("client closed the connection mid-packet")
        data += chunk
    return data


def _recv_packet(conn: socket.socket) -> tuple[int, bytes]:
    header = _recv_exact(conn, _HEADER.size)
    length, _, packet_type, _, _ = _HEADER.unpack(header)
    return packet_type, _recv_exact(conn, length - _HEADER.size)


L = TypeVar("L", bound="_Listener")


class _Listener:
    """A listening TCP socket on 127.0.0.1 (a free port, accept() timing out) served by a
    daemon thread from `with` on."""

    def __init__(self, *, backlog: int, timeout: float) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(backlog)
        self._sock.settimeout(timeout)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self: L) -> L:
        self._thread.start()
        return self

    def _serve(self) -> None:
        raise NotImplementedError


class FakeTnsListener(_Listener):
    """Serve one connection on 127.0.0.1: read the CONNECT, answer with `reply`, close.

    `connect_data` holds the connect descriptor the client sent (e.g. with SERVICE_NAME=...),
    so a test can check what reached the wire. Every socket operation has a timeout.
    """

    def __init__(self, reply: bytes, *, timeout: float = 5.0) -> None:
        self.reply = reply
        self.timeout = timeout
        self.connect_data = ""
        self.error: BaseException | None = None
        super().__init__(backlog=1, timeout=timeout)

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join(self.timeout * 2)
        self._sock.close()

    def _serve(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError as exc:
            self.error = exc
            return
        with conn:
            conn.settimeout(self.timeout)
            try:
                self._answer(conn)
            except (OSError, EOFError) as exc:
                self.error = exc

    def _answer(self, conn: socket.socket) -> None:
        packet_type, body = _recv_packet(conn)
        if packet_type != CONNECT:
            raise AssertionError(f"expected a CONNECT packet, got type {packet_type}")
        # Bytes 16..19 of the CONNECT body: connect data length and its offset from the
        # packet start. Data that does not fit follows in a DATA packet (2 flag bytes first).
        data_length, data_offset = struct.unpack(">HH", body[16:20])
        start = data_offset - _HEADER.size
        data = body[start : start + data_length]
        if len(data) < data_length:
            _, extra = _recv_packet(conn)
            data = extra[2:]
        self.connect_data = data.decode("ascii", "replace")
        conn.sendall(self.reply)
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):  # let the client read the reply and close first
            pass


def closed_port() -> int:
    """A loopback port with nothing listening: bind one, note it, close it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def run_with_deadline(fn: Callable[[], T], seconds: float = 15.0) -> T:
    """Run `fn` in a daemon thread; fail the test instead of hanging if it outlives `seconds`.

    (A blocked oracledb connect cannot be interrupted from Python; this bounds the test.)
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still blocked after {seconds}s")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


class SilentListener(_Listener):
    """A loopback listener that accepts every connection and never says a word (a proxy or a
    hung service on the Oracle port). `accepted` counts the connections it took."""

    def __init__(self) -> None:
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        super().__init__(backlog=8, timeout=0.2)

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._conns:
            conn.close()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            self.accepted += 1
