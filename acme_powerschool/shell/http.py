"""The HTTP shell: send what the core planned, classify, and carry out the retry decision.

It holds no policy of its own: when to fetch a token, what an answer means and whether to
send again are answered by `acme_powerschool.core` (core/retry.py decides what is repeated).
One driver loop, `drive`, runs API calls and the token request alike. It never logs a header
or a body.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import requests
import urllib3

from acme_powerschool.core.call import Call, render_path
from acme_powerschool.core.config import Config
from acme_powerschool.core.errors import AuthenticationError, transport_message
from acme_powerschool.core.outcome import Outcome, TransportError, classify
from acme_powerschool.core.plan import FetchToken, MissingCredentials, Send, plan_request
from acme_powerschool.core.redact import redact, secret_forms
from acme_powerschool.core.retry import (
    AttemptState,
    CallKind,
    Done,
    GiveUp,
    RefreshToken,
    RetryAfter,
    step,
)
from acme_powerschool.core.token import (
    Credentials,
    TokenState,
    adopt_stored,
    refresh_allowed,
    settle_refreshed,
    token_from_response,
    token_request,
)
from acme_powerschool.core.transport import TransportSettings
from acme_powerschool.shell.credentials import CredentialStore
from acme_powerschool.shell.effects import Effects

log = logging.getLogger("acme_powerschool")

CHUNK = 64 * 1024


def configure_session(
    session: requests.Session, settings: TransportSettings, headers: Mapping[str, str]
) -> requests.Session:
    """The one place a client's session is set up: what core/transport.py decided, applied
    once (no per-request environment lookups, no .netrc, no environment CA bundle or proxy
    overriding the caller)."""
    session.trust_env = False
    session.verify = settings.verify
    session.proxies = settings.proxies()
    session.headers.update(headers)
    return session


class _Cutoff(Exception):
    """An answer cut off while reading: too large, or past the attempt's deadline."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def read_body(
    response: requests.Response, limit: int, deadline: float, now: Callable[[], float]
) -> bytes:
    """Read the whole body, at most `limit` bytes (decoded) and not past `deadline`."""
    content: object = response._content
    if content is not False:  # already read (a body given as bytes)
        return response.content
    buffer = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            buffer += chunk
            if len(buffer) > limit:
                raise _Cutoff("too-large", f"more than {limit} bytes")
            if now() > deadline:
                raise _Cutoff("deadline", "the answer was still arriving at the deadline")
    except _Cutoff:
        response.close()
        raise
    response._content = bytes(buffer)
    response._content_consumed = True  # type: ignore[attr-defined]
    return response._content


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it wraps, innermost last: urllib3's `reason`, an exception passed as
    the first argument, the cause or context."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        nested = current.args[0] if current.args else None
        wrapped = (getattr(nested, "reason", None), nested, current.__cause__, current.__context__)
        current = next((w for w in wrapped if isinstance(w, BaseException)), None)


def _tls_detail(exc: BaseException) -> str:
    """OpenSSL's verify message (certificate expired, self-signed, host name mismatch...)."""
    for cause in causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return str(cause.verify_message or cause.reason or "")
        if isinstance(cause, ssl.SSLError):
            return str(cause.reason or cause)
    return ""


def _os_detail(exc: BaseException) -> str:
    """The operating system's words for a failed connection ("Connection refused")."""
    for cause in causes(exc):
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror)
    return ""


_INVALID_REQUEST = (
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidJSONError,
)


def transport_error(exc: BaseException) -> TransportError:
    """Name what failed (the one classification of failed sends); core/retry.py decides what
    that means for a retry and core/errors.py how to say it."""
    if isinstance(exc, _Cutoff):
        return TransportError(exc.kind, exc.detail)
    # requests wraps urllib3's MaxRetryError, whose `reason` is the underlying failure.
    first = exc.args[0] if exc.args else None
    reason = getattr(first, "reason", first)
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError("tls", _tls_detail(exc))
    if isinstance(exc, requests.ConnectTimeout):
        return TransportError("connect-timeout")
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return TransportError("name-not-found")
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return TransportError("connect-refused", _os_detail(reason))
    if isinstance(exc, requests.ReadTimeout):
        return TransportError("read-timeout")
    if isinstance(exc, _INVALID_REQUEST):
        return TransportError("invalid-request", type(exc).__name__)
    return TransportError("connection-reset", _os_detail(exc))


class Transport:
    """One configured requests.Session, and how to send a Call or a token request on it."""

    def __init__(self, session: requests.Session, config: Config) -> None:
        self.session = session
        self.config = config

    def url(self, path: str) -> str:
        return self.config.base_url.root + path

    def fetch_token(self, step: FetchToken) -> requests.Response:
        return self.session.post(
            self.url(step.request.path),
            data=step.request.body,
            headers=step.request.headers,
            timeout=self.config.timeouts.as_requests(),
            allow_redirects=False,
            stream=True,
        )

    def send(self, call: Call, path: str, token: TokenState) -> requests.Response:
        kwargs: dict[str, Any] = dict(call.extra)
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"Bearer {token.access_token}"
        kwargs.setdefault("timeout", self.config.timeouts.as_requests())
        kwargs["allow_redirects"] = False  # API calls never follow redirects
        kwargs["stream"] = True  # the body is read by read_body, bounded
        if call.params is not None:
            kwargs["params"] = call.params
        if call.json is not None:
            kwargs["json"] = call.json
        return self.session.request(call.method, self.url(path), headers=headers, **kwargs)

    def body_limit(self, kind: CallKind, status: int) -> int:
        limits = self.config.limits
        if kind is CallKind.TOKEN:
            return limits.token_body
        return limits.body if 200 <= status < 300 else limits.error_body


@attrs.frozen
class Result:
    """How a run ended: the last response (if any), its outcome, and why it stopped."""

    response: requests.Response | None
    outcome: Outcome
    token: TokenState | None
    gave_up: str | None = None
    error: BaseException | None = None
    attempts: int = 1
    held_until: float | None = None  # token requests on hold (a fresh token was refused too)


Sender = Callable[[], tuple[requests.Response, TokenState | None]]


@attrs.frozen
class _Try:
    response: requests.Response | None
    outcome: Outcome
    token: TokenState | None
    error: BaseException | None = None


def _attempt(
    send: Sender,
    kind: CallKind,
    transport: Transport,
    effects: Effects,
    streamed: bool,
    deadline: float,
) -> _Try:
    response: requests.Response | None = None
    token: TokenState | None = None
    try:
        response, token = send()
        # A streamed body stays unread for the caller; it is classified by status alone.
        limit = transport.body_limit(kind, response.status_code)
        body = b"" if streamed else read_body(response, limit, deadline, effects.now)
        outcome = classify(response.status_code, response.headers, body, effects.now())
    except (requests.RequestException, _Cutoff) as exc:
        return _Try(None, transport_error(exc), token, exc)
    return _Try(response, outcome, token)


def drive(
    kind: CallKind,
    label: str,
    send: Sender,
    transport: Transport,
    effects: Effects,
    *,
    keeper: TokenKeeper | None = None,
    streamed: bool = False,
) -> Result:
    """The one driver loop: send, classify, ask core/retry.py, do what it says."""
    start_refresh = keeper is not None and keeper.may_refresh(effects.now())
    state = AttemptState(can_refresh=start_refresh)
    deadline = effects.now() + transport.config.timeouts.total
    while True:
        tried = _attempt(send, kind, transport, effects, streamed, deadline)
        state = attrs.evolve(state, time_left=deadline - effects.now())
        state, decision = step(transport.config.retry, state, kind, tried.outcome, effects.jitter())
        status = tried.response.status_code if tried.response is not None else tried.outcome
        log.debug("%s -> %s (attempt %d)", label, status, state.attempts)
        match decision:
            case Done(hold_tokens=hold):
                held = keeper.hold(hold, effects) if keeper is not None else None
                return Result(
                    tried.response,
                    tried.outcome,
                    tried.token,
                    error=tried.error,
                    attempts=state.attempts,
                    held_until=held,
                )
            case RefreshToken():
                assert keeper is not None and tried.token is not None
                keeper.invalidate(tried.token)
            case RetryAfter(seconds=seconds):
                log.info("%s: %s, retrying in %.2f s", label, tried.outcome, seconds)
                if tried.response is not None:
                    tried.response.close()
                effects.sleep(seconds)
            case GiveUp(reason=reason):
                return Result(
                    tried.response,
                    tried.outcome,
                    tried.token,
                    gave_up=reason,
                    error=tried.error,
                    attempts=state.attempts,
                )


class TokenKeeper:
    """The current token, refreshed at most once at a time (threads and processes).

    A thread that finds the token stale takes the lock, looks again (another thread may have
    refreshed meanwhile), then asks the store (another process may have), and only then
    fetches. So 16 threads sharing a client make one token request. It also remembers every
    token it saw, so that none can leak through server text (see `secrets`).
    """

    def __init__(
        self, store: CredentialStore, creds: Credentials | None, token: TokenState | None
    ) -> None:
        self.store = store
        self.creds = creds
        self.token = token
        self.token_requests = 0
        self._lock = threading.Lock()
        self._rejected: str | None = None
        self._hold_until: float | None = None
        self._seen: set[str] = set()
        self._secrets = frozenset[str]()
        self._remember(token)

    # -- secrets ----------------------------------------------------------------------
    def _remember(self, token: TokenState | None) -> None:
        if token is not None:
            self._seen.add(token.access_token)
        creds = self.creds
        self._secrets = secret_forms(
            creds.client_id if creds else None, creds.client_secret if creds else None, self._seen
        )

    @property
    def secrets(self) -> frozenset[str]:
        """Every form of every secret this client holds or held (for redaction)."""
        return self._secrets

    # -- refusing to refresh -------------------------------------------------------------
    def may_refresh(self, now: float) -> bool:
        return refresh_allowed(self.creds is not None, self._hold_until, now)

    def hold(self, seconds: float, effects: Effects) -> float | None:
        """Request no token for `seconds` (a fresh token was refused too); say so once."""
        if seconds > 0:
            self._hold_until = effects.now() + seconds
            log.warning(
                "the server refused a freshly issued token as well; no new token is requested "
                "for %.0f s (RetryPolicy.refused_token_hold)",
                seconds,
            )
        now = effects.now()
        return self._hold_until if self._hold_until and self._hold_until > now else None

    # -- getting a token ----------------------------------------------------------------
    def current(self, transport: Transport, effects: Effects) -> TokenState:
        margin = transport.config.refresh_margin
        planned = plan_request(self.creds, self.token, effects.now(), margin)
        if isinstance(planned, Send):
            return planned.token
        with self._lock:
            planned = plan_request(self.creds, self.token, effects.now(), margin)
            if isinstance(planned, Send):
                return planned.token
            if isinstance(planned, MissingCredentials):
                raise AuthenticationError(planned.reason)
            return self._refresh(transport, effects, planned, reuse_stored=True)

    def fetch_now(self, transport: Transport, effects: Effects) -> TokenState:
        """Get a new token from the server whatever we hold."""
        if self.creds is None:
            raise AuthenticationError(
                "client_id and client_secret are needed to obtain an access token"
            )
        with self._lock:
            planned = FetchToken(token_request(self.creds))
            return self._refresh(transport, effects, planned, reuse_stored=False)

    def _refresh(
        self, transport: Transport, effects: Effects, planned: FetchToken, *, reuse_stored: bool
    ) -> TokenState:
        assert self.creds is not None  # plan_request only fetches with credentials
        margin = transport.config.refresh_margin
        with self.store.refresh_lock():
            if reuse_stored:
                stored = self.store.cached_token()
                if adopt_stored(stored, self.token, self._rejected, effects.now(), margin):
                    assert stored is not None
                    self.token = stored
                    self._remember(stored)
                    return stored
            now = effects.now()
            fresh = settle_refreshed(self.token, self._fetch(transport, effects, planned))
            self._remember(fresh)
            log.info(
                "obtained an access token%s",
                "" if fresh.expires_at is None else f" (valid for {int(fresh.expires_at - now)} s)",
            )
            self.store.save_token(self.creds, fresh)
            self.token = fresh
            return fresh

    def _fetch(self, transport: Transport, effects: Effects, planned: FetchToken) -> TokenState:
        """POST the token request through the one driver loop (kind TOKEN)."""

        def send() -> tuple[requests.Response, TokenState | None]:
            self.token_requests += 1
            return transport.fetch_token(planned), None

        result = drive(CallKind.TOKEN, "token request", send, transport, effects)
        server = transport.config.base_url.netloc
        if result.response is None or result.gave_up is not None:
            raise self._token_failure(result, server) from result.error
        response = result.response
        try:
            return token_from_response(
                response.status_code, response.content, effects.now(), self.secrets
            )
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"{exc.message}; the credentials came from the {self.store.description}"
                f"{self.store.fix_hint()}",
                status=exc.status,
            ) from None

    def _token_failure(self, result: Result, server: str) -> AuthenticationError:
        outcome = result.outcome
        if isinstance(outcome, TransportError):
            cause = transport_message(outcome.kind, redact(outcome.detail, self.secrets), server)
        else:
            cause = f"{server}: {outcome}"
        reason = f" ({result.gave_up})" if result.gave_up else ""
        status = result.response.status_code if result.response is not None else 0
        if 200 <= status < 300:  # a maintenance page in a 200: the server is unavailable
            status = 503
        return AuthenticationError(
            f"could not obtain an access token from {cause}{reason}", status=status
        )

    def invalidate(self, token: TokenState) -> None:
        """The server refused `token`: forget it unless another thread already replaced it."""
        with self._lock:
            if self.token is not None and self.token.access_token == token.access_token:
                self._rejected = token.access_token
                self.token = None

    def set(self, token: TokenState | None) -> None:
        with self._lock:
            self.token = token
            self._remember(token)


def run(call: Call, transport: Transport, keeper: TokenKeeper, effects: Effects) -> Result:
    """Send `call` until the core says stop; never raises for an HTTP status."""
    path = render_path(call)
    kind = call.kind

    def send() -> tuple[requests.Response, TokenState | None]:
        token = keeper.current(transport, effects)
        return transport.send(call, path, token), token

    label = f"{call.method} {call.path}"
    streamed = bool(call.extra.get("stream"))
    return drive(kind, label, send, transport, effects, keeper=keeper, streamed=streamed)
