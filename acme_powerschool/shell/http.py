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

from acme_powerschool.core.call import Call, render_path
from acme_powerschool.core.config import Config
from acme_powerschool.core.errors import AuthenticationError
from acme_powerschool.core.outcome import Outcome, TransportError, classify
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
    needs_refresh,
    token_from_response,
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

    def current(self, transport: Transport, config: Config, now: float) -> TokenState:
        step = plan_request(self.creds, self.token, now, config.refresh_margin)
        if isinstance(step, Send):
            return step.token
        with self._lock:
            step = plan_request(self.creds, self.token, now, config.refresh_margin)
            if isinstance(step, Send):
                return step.token
            if isinstance(step, MissingCredentials):
                raise AuthenticationError(step.reason)
            assert self.creds is not None  # plan_request only fetches with credentials
            return self._refresh(transport, step, config, now)

    def _refresh(
        self, transport: Transport, step: FetchToken, config: Config, now: float
    ) -> TokenState:
        assert self.creds is not None
        with self.store.refresh_lock():
            stored = self.store.cached_token()
            if (
                stored is not None
                and stored.access_token != self._rejected
                and (self.token is None or stored.access_token != self.token.access_token)
                and not needs_refresh(stored, now, config.refresh_margin)
            ):
                self.token = stored
                return stored
            status, body = transport.fetch_token(step)
            self.token_requests += 1
            token = token_from_response(status, body, now)
            log.info(
                "obtained a new access token%s",
                "" if token.expires_at is None else f" (valid for {int(token.expires_at - now)} s)",
            )
            self.store.save_token(self.creds, token)
            self.token = token
            return token

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

    def fetch_token(self, step: FetchToken) -> tuple[int, bytes]:
        try:
            resp = self.session.post(
                self.config.base_url.root + step.request.path,
                data=step.request.body,
                headers=step.request.headers,
                timeout=self.config.timeouts.as_requests(),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise AuthenticationError(
                f"could not reach {self.config.base_url.netloc} to obtain an access token: "
                f"{type(exc).__name__}"
            ) from exc
        return resp.status_code, resp.content

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
    """Whether a failed send may have reached the server: only a failed connect surely did not."""
    if isinstance(exc, requests.ConnectTimeout):
        return TransportError("connect-timeout", sent=False)
    if isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc.args):
        return TransportError("connect-refused", sent=False)
    if isinstance(exc, requests.ReadTimeout):
        return TransportError("read-timeout", sent=True)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.ConnectionError):
        return TransportError("connection-broken", sent=True)
    return TransportError(type(exc).__name__, sent=True)


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
        token = keeper.current(transport, config, effects.now())
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
