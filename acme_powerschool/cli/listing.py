"""`get PATH --paginate`: a raw listing as a Pager. The envelope is unwrapped by the library's
own functions (core/envelope.py); this module only finds which of them fits the answer and
which keys to hand it, and the Pager decides the pages (stopping at the first short one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from acme_powerschool.core.errors import ResponseFormatError

NOT_A_LISTING = (
    '--paginate reads listings: v1 answers like {{"students": {{"student": [...]}}}} or '
    'schema answers like {{"record": [...]}}; this answer {}'
)


def listing_records(body: Any) -> list[Mapping[str, Any]]:
    """The records of one page of a raw listing, through core/envelope.py."""
    from acme_powerschool.core.envelope import unwrap_list, unwrap_query

    if not isinstance(body, Mapping):
        raise ResponseFormatError(NOT_A_LISTING.format("is not a JSON object"))
    if "record" in body:
        return list(unwrap_query(body).records)
    if len(body) != 1:
        raise ResponseFormatError(NOT_A_LISTING.format(f"has keys {', '.join(map(str, body))}"))
    plural, inner = next(iter(body.items()))
    keys = (
        [key for key in inner if not str(key).startswith("@")] if isinstance(inner, Mapping) else []
    )
    if len(keys) > 1:
        raise ResponseFormatError(NOT_A_LISTING.format(f"has keys {', '.join(keys)} in {plural}"))
    return unwrap_list(body, plural, keys[0]) if keys else unwrap_list(body, plural, "")


def raw_listing(client: Any, path: str, params: Mapping[str, Any], pagesize: int | None) -> Any:
    """A Pager over `GET path?page=N&pagesize=S`, raising the typed errors of `client.send`."""
    from acme_powerschool.core.call import Call
    from acme_powerschool.pager import Page, Pager

    base = {k: v for k, v in params.items() if k not in ("page", "pagesize")}

    def fetch_page(number: int, size: int | None) -> Page[Mapping[str, Any]]:
        paging = {"page": str(number)} | ({} if size is None else {"pagesize": str(size)})
        call = Call("GET", path, params={**base, **paging})
        response = client.send(call)
        try:
            body = response.json()
        except ValueError:
            raise ResponseFormatError(
                NOT_A_LISTING.format("is not JSON"), status=response.status_code
            ) from None
        return Page(listing_records(body))

    return Pager(fetch_page, pagesize=pagesize)
