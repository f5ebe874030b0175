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
from acme_powerschool.core.config import Config, Timeouts, parse_base_url
from acme_powerschool.core.errors import (
    AccessDenied,
    AuthenticationError,
    PowerSchoolError,
    PowerSchoolWarning,
    RateLimited,
    ServerError,
    error_class,
    message_from_body,
)
from acme_powerschool.core.outcome import RateLimited as RateLimitedOutcome
from acme_powerschool.core.outcome import TransportError, Unauthorized
from acme_powerschool.core.retry import RetryPolicy
from acme_powerschool.core.token import TokenState
from acme_powerschool.shell.credentials import (
    CredentialStore,
    Forgotten,
    JsonFileStore,
    KeyringStore,
    MemoryStore,
    Stored,
)
from acme_powerschool.shell.effects import REAL, Effects
from acme_powerschool.shell.http import Result, TokenKeeper, Transport, run
from acme_powerschool.typed import TypedHelpers

log = logging.getLogger("acme_powerschool")

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class api(TypedHelpers):
    """A PowerSchool server and the credentials to talk to it.

    >>> ps = acme_powerschool.api("district.powerschool.com", client_id="...", client_secret="...")
    >>> ps.get("ws/v1/student/2").json()

    Exactly one credential pattern is used, first match wins: `plugin` (OS keyring),
    `credential_file` (JSON file), `client_id` + `client_secret`, or `access_token`.
    `timeout` (seconds, or a (connect, read) pair), `retry` (a RetryPolicy) and `verify`
    (TLS verification, on by default) tune the transport.
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
        timeout: float | tuple[float, float] | None = None,
        retry: RetryPolicy | None = None,
        verify: bool | str = True,
        session: requests.Session | None = None,
        effects: Effects | None = None,
        prompt: Callable[[str], str] | None = None,
    ) -> None:
        if base_url is None:
            raise ValueError("base_url is required, e.g. api('district.powerschool.com', ...)")
        url = parse_base_url(base_url)
        if timeout is None:
            timeouts = Timeouts()
        elif isinstance(timeout, tuple):
            timeouts = Timeouts(connect=timeout[0], read=timeout[1])
        else:
            timeouts = Timeouts(connect=timeout, read=timeout)
        self._config = Config(
            base_url=url,
            verify_tls=verify,
            timeouts=timeouts,
            retry=retry or RetryPolicy(),
            user_agent=f"acme-powerschool/{__version__}",
        )
        self._effects = effects or REAL
        self._base_url = url.netloc
        self._credential_file = os.fspath(credential_file) if credential_file else None
        self._plugin = plugin

        if plugin and credential_file:
            raise ValueError("pass either credential_file= or plugin=, not both")
        if (plugin or credential_file) and (client_id or client_secret):
            where = "plugin=" if plugin else "credential_file="
            raise ValueError(
                f"client_id/client_secret and {where} were both given; the {where} store holds "
                "the credentials, so pass one or the other"
            )
        if access_token is not None:
            access_token = access_token.strip()
        store: CredentialStore
        if plugin:
            store = KeyringStore(url.netloc, plugin, prompt=prompt)
        elif credential_file:
            store = JsonFileStore(credential_file)
        else:
            if bool(client_id) != bool(client_secret):
                missing = "client_secret" if client_id else "client_id"
                raise AuthenticationError(f"{missing} is missing: pass both or neither")
            store = MemoryStore(Stored(client_id, client_secret, None))
        stored = store.load()
        if access_token:
            stored = Stored(stored.client_id, stored.client_secret, TokenState(access_token))
        if stored.credentials() is None and stored.token is None and credential_file:
            raise AuthenticationError(
                f"{store.description} has no client_id and client_secret (nor an access_token)"
            )
        self._keeper = TokenKeeper(store, stored.credentials(), stored.token)

        self.session = session or requests.Session()
        self.session.headers.update(JSON_HEADERS)
        self.session.headers["User-Agent"] = self._config.user_agent
        self.session.verify = verify
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

    def _set_access_token(self, access_token: str, *, update_state: bool = True) -> None:
        """Set the token and the session's Authorization header (the original's plumbing)."""
        if update_state:
            self._keeper.set(TokenState(access_token))
        self.session.headers["Authorization"] = f"Bearer {access_token}"

    def _obtain_access_token(self) -> str:
        """Request a new bearer token from /oauth/access_token and use it from now on.

        RuntimeError (AuthenticationError) when client_id or client_secret is missing, or
        when the server does not grant a token.
        """
        token = self._keeper.fetch_now(self._transport, self._effects)
        self.session.headers["Authorization"] = f"Bearer {token.access_token}"
        return token.access_token

    # -- the raw verbs ------------------------------------------------------------------
    def _run(self, call: Call) -> Result:
        result = run(call, self._transport, self._keeper, self._effects)
        token = self._keeper.token
        if token is not None:
            self.session.headers["Authorization"] = f"Bearer {token.access_token}"
        return result

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send `method url` (relative to the server) and return the Response.

        A 401 gets a new token and one retry; connection failures, 429 and 502/503/504 are
        retried for calls that are safe to repeat; a 403 warns with `PowerSchoolWarning` and
        sets `response.access_requests`. Keyword arguments go to requests.
        """
        return self._request(method, url, **kwargs)

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        params = kwargs.pop("params", None)
        body = kwargs.pop("json", None)
        # A body that is read as it is sent (a file, an upload) cannot be sent twice.
        replayable = "files" not in kwargs and not hasattr(kwargs.get("data"), "read")
        call = Call(
            method,
            self._relative(url),
            params=params,
            json=body,
            extra=kwargs,
            idempotent=None if replayable else False,
        )
        result = self._run(call)
        if result.response is None:
            assert result.error is not None
            raise result.error
        response = result.response
        if (
            isinstance(result.outcome, Unauthorized)
            and result.outcome.token_problem
            and self._keeper.creds is None
        ):
            raise AuthenticationError(
                "the server rejected the access token and no client_id/client_secret are "
                "known to obtain a new one",
                status=401,
                response=response,
            )
        response.access_requests = ""  # type: ignore[attr-defined]
        if response.status_code == 403:
            content_type = response.headers.get("Content-Type", "")
            tags = render_access_requests(parse_access_denied(response.content, content_type))
            response.access_requests = tags  # type: ignore[attr-defined]
            if tags:
                text = f"No access to field. access_requests: {tags}"
            else:
                message, _ = message_from_body(response.content, content_type, "Forbidden")
                text = f"PowerSchool refused the request (403): {message}"
            # user -> get/post/.../request -> _request: the warning points at the user's line
            warnings.warn(text, PowerSchoolWarning, stacklevel=3)
        return response

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

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self._request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self._request("DELETE", url, **kwargs)

    # -- the typed path -----------------------------------------------------------------
    def send(self, call: Call) -> requests.Response:
        """Run `call` like the raw verbs, but raise a PowerSchoolError for any non-2xx."""
        result = self._run(call)
        response = result.response
        if response is None:
            if isinstance(result.outcome, TransportError) and result.outcome.kind == "tls":
                raise ServerError(
                    f"TLS verification failed for {self._config.base_url.netloc}; for a private "
                    "CA pass verify='/path/to/ca-bundle.pem'",
                ) from result.error
            raise ServerError(
                f"{call.method} {call.path} failed: {result.gave_up or 'no response'} "
                f"({type(result.error).__name__})",
                status=0,
            ) from result.error
        status = response.status_code
        if 200 <= status < 300 and result.gave_up is None:
            return response
        raise self._error(call, result, response)

    def _error(self, call: Call, result: Result, response: requests.Response) -> PowerSchoolError:
        status = response.status_code
        content_type = response.headers.get("Content-Type", "")
        fallback = f"{call.method} {call.path}: {response.reason or 'HTTP error'}"
        if result.gave_up and 200 <= status < 300:
            fallback = f"{call.method} {call.path}: PowerSchool is unavailable (maintenance page)"
            return ServerError(fallback, status=503, response=response)
        message, errors = message_from_body(response.content, content_type, fallback)
        cls = error_class(status)
        if cls is AccessDenied:
            tags = render_access_requests(parse_access_denied(response.content, content_type))
            return AccessDenied(
                message, access_requests=tags, status=status, errors=errors, response=response
            )
        if cls is RateLimited:
            retry_after = (
                result.outcome.retry_after
                if isinstance(result.outcome, RateLimitedOutcome)
                else None
            )
            return RateLimited(
                message, retry_after=retry_after, status=status, errors=errors, response=response
            )
        return cls(message, status=status, errors=errors, response=response)

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
