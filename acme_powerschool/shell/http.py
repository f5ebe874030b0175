"""The HTTP shell: send what the core planned, classify, and follow the retry decision.

It holds no policy of its own: when to fetch a token, what a response means and whether to
retry are all answered by `acme_powerschool.core`. It never logs a header or a body.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import attrs
import requests
import urllib3

from acme_powerschool.core.call import Call, render_path
from acme_powerschool.core.config import Config
from acme_powerschool.core.errors import AuthenticationError
from acme_powerschool.core.outcome import (
    Outcome,
    RateLimited,
    TransportError,
    Unavailable,
    classify,
    classify_transport,
)
from acme_powerschool.core.plan import FetchToken, MissingCredentials, Send, plan_request
from acme_powerschool.core.retry import (
    Done,
    GiveUp,
    RefreshToken,
    RetryAfter,
    decide_retry,
)
from acme_powerschool.core.token import (
    Credentials,
    TokenState,
    adopt_stored,
    settle_refreshed,
    token_from_response,
    token_request,
)
from acme_powerschool.shell.credentials import CredentialStore
from acme_powerschool.shell.effects import Effects

log = logging.getLogger("acme_powerschool")


class TokenKeeper:
    """The current token, refreshed at most once at a time (threads and processes).

    A thread that finds the token stale takes the lock, looks again (another thread may have
    refreshed meanwhile), then asks the store (another process may have), and only then
    fetches. So 16 threads sharing a client make one token request.
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

    def current(self, transport: Transport, effects: Effects) -> TokenState:
        margin = transport.config.refresh_margin
        step = plan_request(self.creds, self.token, effects.now(), margin)
        if isinstance(step, Send):
            return step.token
        with self._lock:
            step = plan_request(self.creds, self.token, effects.now(), margin)
            if isinstance(step, Send):
                return step.token
            if isinstance(step, MissingCredentials):
                raise AuthenticationError(step.reason)
            return self._refresh(transport, effects, step, reuse_stored=True)

    def fetch_now(self, transport: Transport, effects: Effects) -> TokenState:
        """Get a new token from the server whatever we hold (the original's
        `_obtain_access_token`)."""
        if self.creds is None:
            raise AuthenticationError(
                "client_id and client_secret are needed to obtain an access token"
            )
        with self._lock:
            step = FetchToken(token_request(self.creds))
            return self._refresh(transport, effects, step, reuse_stored=False)

    def _refresh(
        self, transport: Transport, effects: Effects, step: FetchToken, *, reuse_stored: bool
    ) -> TokenState:
        assert self.creds is not None  # plan_request only fetches with credentials
        margin = transport.config.refresh_margin
        with self.store.refresh_lock():
            if reuse_stored:
                stored = self.store.cached_token()
                if adopt_stored(stored, self.token, self._rejected, effects.now(), margin):
                    assert stored is not None
                    self.token = stored
                    return stored
            now = effects.now()
            fresh = settle_refreshed(self.token, self._fetch(transport, effects, step))
            log.info(
                "obtained an access token%s",
                "" if fresh.expires_at is None else f" (valid for {int(fresh.expires_at - now)} s)",
            )
            self.store.save_token(self.creds, fresh)
            self.token = fresh
            return fresh

    def _fetch(self, transport: Transport, effects: Effects, step: FetchToken) -> TokenState:
        """POST the token request, retried like any safe call (the grant changes nothing)."""
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            self.token_requests += 1
            error: requests.RequestException | None = None
            try:
                response = transport.fetch_token(step)
                status, body = response.status_code, response.content
                outcome = classify(status, response.headers, body, effects.now())
            except requests.RequestException as exc:
                error, outcome = exc, transport_error(exc)
            if isinstance(outcome, Unavailable | RateLimited | TransportError):
                decision = decide_retry(
                    transport.config.retry,
                    safe_to_repeat=True,
                    attempt=attempt,
                    waited=waited,
                    outcome=outcome,
                    jitter=effects.jitter(),
                    can_refresh=False,
                    refreshed=True,
                )
                if isinstance(decision, RetryAfter):
                    log.info("token request: %s, retrying in %.2f s", outcome, decision.seconds)
                    effects.sleep(decision.seconds)
                    waited += decision.seconds
                    continue
                reason = decision.reason if isinstance(decision, GiveUp) else str(outcome)
                raise AuthenticationError(
                    f"could not obtain an access token from {transport.config.base_url.netloc}: "
                    f"{type(error).__name__ if error else reason} ({reason})"
                ) from error
            try:
                return token_from_response(status, body, effects.now())
            except AuthenticationError as exc:
                raise AuthenticationError(
                    f"{exc.message}; the credentials came from the {self.store.description}"
                    f"{self.store.fix_hint()}",
                    status=exc.status,
                ) from None

    def invalidate(self, token: TokenState) -> None:
        """The server refused `token`: forget it unless another thread already replaced it."""
        with self._lock:
            if self.token is not None and self.token.access_token == token.access_token:
                self._rejected = token.access_token
                self.token = None

    def set(self, token: TokenState | None) -> None:
        with self._lock:
            self.token = token


class Transport:
    """One requests.Session and how to send a Call with a token on it."""

    def __init__(self, session: requests.Session, config: Config) -> None:
        self.session = session
        self.config = config

    def url(self, call: Call) -> str:
        return self.config.base_url.root + render_path(call)

    def fetch_token(self, step: FetchToken) -> requests.Response:
        return self.session.post(
            self.config.base_url.root + step.request.path,
            data=step.request.body,
            headers=step.request.headers,
            timeout=self.config.timeouts.as_requests(),
            allow_redirects=False,
        )

    def send(self, call: Call, token: TokenState) -> requests.Response:
        kwargs: dict[str, Any] = dict(call.extra)
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"Bearer {token.access_token}"
        kwargs.setdefault("timeout", self.config.timeouts.as_requests())
        if call.params is not None:
            kwargs["params"] = call.params
        if call.json is not None:
            kwargs["json"] = call.json
        return self.session.request(call.method, self.url(call), headers=headers, **kwargs)


def transport_error(exc: requests.RequestException) -> TransportError:
    """Name what failed; the core decides what that means (sent? worth a retry?)."""
    # requests wraps urllib3's MaxRetryError, whose `reason` is the underlying failure.
    first = exc.args[0] if exc.args else None
    reason = getattr(first, "reason", first)
    kind = "connection-broken"
    if isinstance(exc, requests.exceptions.SSLError):
        kind = "tls"
    elif isinstance(exc, requests.ConnectTimeout):
        kind = "connect-timeout"
    elif isinstance(reason, urllib3.exceptions.NewConnectionError):
        kind = "connect-refused"
    elif isinstance(exc, requests.ReadTimeout):
        kind = "read-timeout"
    elif isinstance(
        exc,
        requests.exceptions.InvalidHeader
        | requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.InvalidJSONError,
    ):
        kind = "invalid-request"
    return classify_transport(kind)


@attrs.frozen
class Result:
    """How a run ended: the last response (if any), its outcome, and why it stopped."""

    response: requests.Response | None
    outcome: Outcome
    token: TokenState | None
    gave_up: str | None = None
    error: requests.RequestException | None = None
    attempts: int = 1


def run(call: Call, transport: Transport, keeper: TokenKeeper, effects: Effects) -> Result:
    """Send `call` until the core says stop; never raises for an HTTP status."""
    config = transport.config
    attempt = 0
    waited = 0.0
    refreshed = False
    while True:
        attempt += 1
        token = keeper.current(transport, effects)
        response: requests.Response | None = None
        error: requests.RequestException | None = None
        try:
            response = transport.send(call, token)
            # A streamed body stays unread for the caller; it is classified by status alone.
            body = b"" if call.extra.get("stream") else response.content
            outcome = classify(response.status_code, response.headers, body, effects.now())
        except requests.RequestException as exc:
            error = exc
            outcome = transport_error(exc)
        log.debug(
            "%s %s -> %s (attempt %d)",
            call.method,
            call.path,
            response.status_code if response is not None else type(outcome).__name__,
            attempt,
        )
        decision = decide_retry(
            config.retry,
            safe_to_repeat=call.safe_to_repeat,
            attempt=attempt,
            waited=waited,
            outcome=outcome,
            jitter=effects.jitter(),
            can_refresh=keeper.creds is not None,
            refreshed=refreshed,
        )
        match decision:
            case Done():
                return Result(response, outcome, token, error=error, attempts=attempt)
            case RefreshToken():
                keeper.invalidate(token)
                refreshed = True
            case RetryAfter(seconds=seconds):
                log.info("%s %s: %s, retrying in %.2f s", call.method, call.path, outcome, seconds)
                if response is not None:
                    response.close()
                effects.sleep(seconds)
                waited += seconds
            case GiveUp(reason=reason):
                return Result(
                    response, outcome, token, gave_up=reason, error=error, attempts=attempt
                )
