"""`acme_powerschool.api`: the original product's REST client, on the functional core.

The raw verbs return `requests.Response` exactly as the original did (a 403 warns and sets
`response.access_requests`); `send()` is the same path for typed helpers, raising typed errors.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from acme_powerschool import __version__
from acme_powerschool.core.access import parse_access_denied, render_access_requests
from acme_powerschool.core.call import Call
from acme_powerschool.core.config import Config, Limits, Timeouts, parse_base_url
from acme_powerschool.core.errors import (
    Answer,
    AuthenticationError,
    ConnectionFailed,
    PowerSchoolError,
    PowerSchoolWarning,
    ServerError,
    error_for,
    server_message,
    transport_message,
)
from acme_powerschool.core.outcome import Throttled, TransportError, Unauthorized
from acme_powerschool.core.patterns import FromFile, FromKeyring, choose_pattern
from acme_powerschool.core.redact import redact
from acme_powerschool.core.retry import RetryPolicy
from acme_powerschool.core.token import TokenState
from acme_powerschool.core.transport import decide_transport
from acme_powerschool.shell.credentials import (
    CredentialStore,
    Forgotten,
    JsonFileStore,
    KeyringStore,
    MemoryStore,
    Stored,
)
from acme_powerschool.shell.effects import REAL, Effects
from acme_powerschool.shell.http import (
    Result,
    TokenKeeper,
    Transport,
    causes,
    configure_session,
    run,
    transport_error,
)
from acme_powerschool.typed import TypedHelpers

log = logging.getLogger("acme_powerschool")

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class Response(requests.Response):
    """What the raw verbs return: a `requests.Response` that also declares
    `access_requests`, the plugin.xml `<field>` lines a 403 asks for ("" otherwise)."""

    access_requests: str = ""


def _as_response(response: requests.Response, access_requests: str = "") -> Response:
    response.__class__ = Response  # the same object, typed: r.access_requests type-checks
    typed: Response = response  # type: ignore[assignment]
    typed.access_requests = access_requests
    return typed


def _answer(response: requests.Response) -> Answer:
    return Answer(
        status=response.status_code,
        content_type=response.headers.get("Content-Type", ""),
        body=response.content,
        reason=response.reason or "",
        location=response.headers.get("Location", ""),
    )


def _access_requests(response: requests.Response) -> str:
    content_type = response.headers.get("Content-Type", "")
    return render_access_requests(parse_access_denied(response.content, content_type))


def transport_failure(
    exc: BaseException, server: str = "the server", secrets: frozenset[str] = frozenset()
) -> ConnectionFailed | None:
    """The typed error for a failed send (a requests exception anywhere in `exc`'s chain),
    saying what failed and how to fix it; None when `exc` is no transport failure. The raw
    verbs raise requests' exception; this is the one place that explains it."""
    for cause in causes(exc):
        if isinstance(cause, requests.RequestException):
            failure = transport_error(cause)
            detail = redact(failure.detail, secrets)
            return ConnectionFailed(
                transport_message(failure.kind, detail, server), kind=failure.kind
            )
    return None


class api(TypedHelpers):
    """A PowerSchool server and the credentials to talk to it.

    >>> ps = acme_powerschool.api("district.powerschool.com", client_id="...", client_secret="...")
    >>> ps.get("ws/v1/student/2").json()

    Exactly one credential pattern is used, first match wins: `plugin` (OS keyring),
    `credential_file` (JSON file), `client_id` + `client_secret`, or `access_token`.
    `timeout` (seconds, a (connect, read) pair, or a `Timeouts` with an overall deadline),
    `retry` (a RetryPolicy), `limits` (the most bytes read per answer, a `Limits`) and
    `verify` (TLS verification: on by default; a CA bundle path or False; it wins over
    REQUESTS_CA_BUNDLE) tune the transport (see docs/credentials.md). Use it as a context
    manager, or call `close()`, to release its connections.
    """

    def __init__(
        self,
        base_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        access_token: str | None = None,
        credential_file: str | os.PathLike[str] | None = None,
        plugin: str | None = None,
        *,
        timeout: float | tuple[float, float] | Timeouts | None = None,
        retry: RetryPolicy | None = None,
        verify: bool | str | None = None,
        limits: Limits | None = None,
        session: requests.Session | None = None,
        effects: Effects | None = None,
        prompt: Callable[[str], str] | None = None,
    ) -> None:
        if base_url is None:
            raise ValueError("base_url is required, e.g. api('district.powerschool.com', ...)")
        url = parse_base_url(base_url)
        self._effects = effects or REAL
        settings = decide_transport(url, verify, self._effects.environ())
        self._config = Config(
            base_url=url,
            verify_tls=settings.verify,
            timeouts=_timeouts(timeout),
            retry=retry or RetryPolicy(),
            limits=limits or Limits(),
            user_agent=f"acme-powerschool/{__version__}",
        )
        self._base_url = url.netloc
        self._credential_file = os.fspath(credential_file) if credential_file else None
        self._plugin = plugin
        pattern = choose_pattern(client_id, client_secret, self._credential_file, plugin)
        store: CredentialStore
        if isinstance(pattern, FromKeyring):
            store = KeyringStore(url.netloc, pattern.plugin, prompt=prompt)
        elif isinstance(pattern, FromFile):
            store = JsonFileStore(pattern.path)
        else:
            store = MemoryStore(Stored(pattern.client_id, pattern.client_secret, None))
        stored = store.load()
        if access_token is not None and access_token.strip():
            stored = Stored(
                stored.client_id, stored.client_secret, TokenState(access_token.strip())
            )
        if stored.credentials() is None and stored.token is None and credential_file:
            raise AuthenticationError(
                f"{store.description} has no client_id and client_secret (nor an access_token)"
            )
        self._keeper = TokenKeeper(store, stored.credentials(), stored.token)
        headers = {**JSON_HEADERS, "User-Agent": self._config.user_agent}
        self.session = configure_session(session or requests.Session(), settings, headers)
        # The pagers' adaptive window, in front of a connection pool its size.
        from acme_powerschool.shell.window import mount_window  # loaded with the first client

        self._window = mount_window(self.session, self._effects)
        self._transport = Transport(self.session, self._config)
        if stored.token is not None:
            self._set_access_token(stored.token.access_token, update_state=False)

    # -- the original's private attributes -------------------------------------------
    @property
    def _client_id(self) -> str | None:
        creds = self._keeper.creds
        return creds.client_id if creds else None

    @property
    def _client_secret(self) -> str | None:
        creds = self._keeper.creds
        return creds.client_secret if creds else None

    @property
    def _access_token(self) -> str | None:
        token = self._keeper.token
        return token.access_token if token else None

    @property
    def token_state(self) -> TokenState | None:
        """The current token and its expiry (the token never shows in repr)."""
        return self._keeper.token

    @property
    def token_requests(self) -> int:
        """How many tokens this client has requested from the server."""
        return self._keeper.token_requests

    def __repr__(self) -> str:
        pattern = (
            f"plugin={self._plugin!r}"
            if self._plugin
            else f"credential_file={self._credential_file!r}"
            if self._credential_file
            else "client credentials"
            if self._keeper.creds
            else "access token"
        )
        return f"<acme_powerschool.api {self._config.base_url.root} ({pattern})>"

    # -- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        """Release the client's connections (the session); the client is unusable after."""
        self.session.close()

    def __enter__(self) -> api:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def redact(self, text: str) -> str:
        """`text` (anything a server sent) with every form of every secret this client knows
        removed: the client secret, the Basic header value, every token it was given or
        issued. For printing server text (the CLI's error lines and --debug output)."""
        return redact(text, self._keeper.secrets)

    # -- tokens -------------------------------------------------------------------------
    def _set_access_token(self, access_token: str, *, update_state: bool = True) -> None:
        """Set the token and the session's Authorization header (the original's plumbing)."""
        if update_state:
            self._keeper.set(TokenState(access_token))
        self.session.headers["Authorization"] = f"Bearer {access_token}"

    def fetch_token(self) -> TokenState:
        """Request a new bearer token from the server now, use it from now on, save it to the
        credential store, and return it (with its expiry).

        AuthenticationError (a RuntimeError) when client_id or client_secret is missing, or
        when the server does not grant a token; the message says why, secrets redacted.
        """
        token = self._keeper.fetch_now(self._transport, self._effects)
        self.session.headers["Authorization"] = f"Bearer {token.access_token}"
        return token

    def _obtain_access_token(self) -> str:
        """The original's name for `fetch_token`; returns the token text."""
        return self.fetch_token().access_token

    # -- the raw verbs ------------------------------------------------------------------
    def _run(self, call: Call) -> Result:
        result = run(call, self._transport, self._keeper, self._effects)
        token = self._keeper.token
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token.access_token}"
        return result

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        """Send `method url` (relative to the server) and return the Response.

        A 401 gets a new token and one retry; connection failures, 429 and 502/503/504 are
        retried for calls that are safe to repeat; redirects are never followed (a 3xx is
        returned, with a warning naming its target); a 403 warns with `PowerSchoolWarning`
        and sets `response.access_requests`. Keyword arguments go to requests.
        """
        return self._request(method, url, **kwargs)

    def _request(self, method: str, url: str, **kwargs: Any) -> Response:
        params = kwargs.pop("params", None)
        body = kwargs.pop("json", None)
        call = Call(method, self._relative(url), params=params, json=body, extra=kwargs)
        result = self._run(call)
        if result.response is None:
            raise self._raw_failure(result)
        response = result.response
        outcome = result.outcome
        if isinstance(outcome, Unauthorized) and outcome.token_problem and not self._keeper.creds:
            raise AuthenticationError(
                "the server rejected the access token and no client_id/client_secret are "
                "known to obtain a new one",
                status=401,
                response=response,
            )
        notice = self._raw_notice(call, response)
        typed = _as_response(
            response, _access_requests(response) if response.status_code == 403 else ""
        )
        if notice:
            # user -> get/post/.../request -> _request: the warning points at the user's line
            warnings.warn(notice, PowerSchoolWarning, stacklevel=3)
        return typed

    def _raw_failure(self, result: Result) -> BaseException:
        """What a raw verb raises when no answer came: requests' own exception, with a note
        saying what failed and how to fix it."""
        error = result.error
        described = self._transport_error(result)
        if isinstance(error, requests.RequestException):
            add_note = getattr(error, "add_note", None)  # Python 3.11+: shown in tracebacks
            if add_note is not None:
                add_note(str(described))
            return error
        return described

    def _raw_notice(self, call: Call, response: requests.Response) -> str:
        """The warning a raw verb gives with the Response: 403 and 3xx (never followed)."""
        status = response.status_code
        if status == 403:
            tags = _access_requests(response)
            if tags:
                return f"No access to field. access_requests: {tags}"
            message, _ = server_message(_answer(response), "Forbidden", self._keeper.secrets)
            return f"PowerSchool refused the request (403): {message}"
        if 300 <= status < 400:
            return str(
                error_for(
                    _answer(response),
                    f"{call.method} /{call.path.lstrip('/')}",
                    secrets=self._keeper.secrets,
                )
            )
        return ""

    def _relative(self, url: str) -> str:
        """A server-relative path; a full URL is accepted only for this very server."""
        if "://" in url.split("?", 1)[0]:
            parts = urlsplit(url)
            if parts.scheme != self._config.base_url.scheme or parts.netloc.lower() != (
                self._config.base_url.netloc
            ):
                raise ValueError(
                    f"url must be relative to {self._config.base_url.root} (like "
                    "'ws/v1/student/2'); the token is never sent to another server"
                )
            url = parts.path + (f"?{parts.query}" if parts.query else "")
        return url.lstrip("/")

    def get(self, url: str, **kwargs: Any) -> Response:
        return self._request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self._request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self._request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self._request("DELETE", url, **kwargs)

    # -- the typed path -----------------------------------------------------------------
    def send(self, call: Call) -> requests.Response:
        """Run `call` like the raw verbs, but raise a PowerSchoolError for any non-2xx."""
        result = self._run(call)
        response = result.response
        if response is None:
            raise self._transport_error(result) from result.error
        if 200 <= response.status_code < 300 and result.gave_up is None:
            return response
        raise self._error(call, result, response)

    def raise_for_response(self, response: requests.Response, what: str = "") -> None:
        """Raise the typed PowerSchoolError for a non-2xx `response` (a raw verb's answer),
        exactly as the typed helpers would; return quietly for a 2xx. `what` names the call
        in the message (default: the method and path)."""
        if 200 <= response.status_code < 300:
            return
        if not what and response.request is not None:
            what = f"{response.request.method} {urlsplit(str(response.request.url)).path}"
        raise error_for(
            _answer(response),
            what or "request",
            secrets=self._keeper.secrets,
            access_requests=_access_requests(response) if response.status_code == 403 else "",
            response=response,
        )

    def _transport_error(self, result: Result) -> ConnectionFailed:
        outcome = result.outcome
        assert isinstance(outcome, TransportError)
        detail = redact(outcome.detail, self._keeper.secrets)
        message = transport_message(outcome.kind, detail, self._config.base_url.netloc)
        if result.gave_up:
            message += f" ({result.gave_up})"
        return ConnectionFailed(message, kind=outcome.kind)

    def _error(self, call: Call, result: Result, response: requests.Response) -> PowerSchoolError:
        status = response.status_code
        what = f"{call.method} {call.path}"
        if result.gave_up and 200 <= status < 300:
            return ServerError(
                f"{what}: PowerSchool is unavailable (maintenance page)",
                status=503,
                response=response,
            )
        if result.held_until is not None and status == 401:
            return AuthenticationError(
                f"{what}: the server refused a freshly issued token as well; no new token is "
                "requested until the hold ends (RetryPolicy.refused_token_hold)",
                status=status,
                response=response,
            )
        outcome = result.outcome
        return error_for(
            _answer(response),
            what,
            secrets=self._keeper.secrets,
            access_requests=_access_requests(response) if status == 403 else "",
            retry_after=outcome.retry_after if isinstance(outcome, Throttled) else None,
            gave_up=result.gave_up,
            response=response,
        )

    # -- forgetting ---------------------------------------------------------------------
    def forget_credentials(self) -> Forgotten:
        """Forget the credentials and cached token this client's store holds (the library
        verb behind `acme-powerschool logout`) and drop them from this client too.

        A credential file loses its credential keys (deleted when nothing else is left; a
        symlinked file is emptied of them, never unlinked); a keyring entry is deleted.
        Returns a `Forgotten` record saying what happened; AuthenticationError (naming the
        file and the reason) when the store cannot or must not be changed.
        """
        forgotten = self._keeper.store.forget()
        self._keeper.creds = None
        self._keeper.token = None
        self.session.headers.pop("Authorization", None)
        return forgotten


def _timeouts(timeout: float | tuple[float, float] | Timeouts | None) -> Timeouts:
    if timeout is None:
        return Timeouts()
    if isinstance(timeout, Timeouts):
        return timeout
    if isinstance(timeout, tuple):
        return Timeouts(connect=timeout[0], read=timeout[1])
    return Timeouts(connect=timeout, read=timeout)
