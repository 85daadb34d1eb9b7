"""The one canonical query string of a list page, and the rules that keep its URL canonical.

A list page (audit log, commands, event streams, ...) is described by four kinds of parameter:

* **filters** (the FilterSet's fields, plus a tab such as ``kind``),
* **sort** (``sort``) and **page size** (``per_page``),
* **position**: a keyset cursor (``before`` / ``after``) or a page number (``page``).

They compose by explicit rules, so a bookmarked URL always reproduces what was shown:

1. A filter change (the filter form) drops the position and keeps sort and page size: the form
   submits to ``request.path`` with its fields plus hidden ``sort`` / ``per_page`` inputs
   (:func:`kept_on_filter`), never to ``""`` (htmx resolves ``hx-get=""`` to the current URL
   *with* its query, so a stale cursor rides along).
2. A sort or page-size change drops the position (``table.html``'s ``querystring_replace``).
3. A paging link replaces only the position.
4. Every key appears once, empty values are dropped, and a request whose query is not canonical
   is answered with the canonical URL (:func:`canonical_url_view`): a redirect for a plain
   request, ``HX-Push-Url`` for an htmx one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Final, ParamSpec, TypeVar, cast
from urllib.parse import parse_qsl, urlencode

from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect, QueryDict
from django_htmx.http import push_url

from patterns_admin.http import wants_fragment

#: Parameters a filter change keeps (everything else not in the form is dropped).
KEPT_ON_FILTER: Final = ("sort", "per_page")
#: Parameters that say where in the list the page starts; any other change drops them.
POSITION: Final = ("before", "after", "page")

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)


def canonical_pairs(params: QueryDict | Mapping[str, str]) -> list[tuple[str, str]]:
    """``params`` with empty values dropped and each key once (its last value, as
    ``QueryDict.get`` reads it), in the order the keys first appear."""
    if isinstance(params, QueryDict):
        return [(key, value) for key in params if (value := params.get(key) or "")]
    return [(key, value) for key, value in params.items() if value]


def canonical_query(params: QueryDict | Mapping[str, str]) -> str:
    """The encoded :func:`canonical_pairs` of ``params``.

    >>> canonical_query(QueryDict("transition=pay&model=&transition=ship&page=2"))
    'transition=ship&page=2'
    """
    return urlencode(canonical_pairs(params))


def canonical_url(request: HttpRequest) -> str:
    """The request's path plus its canonical query string."""
    query = canonical_query(request.GET)
    return f"{request.path}?{query}" if query else request.path


def is_canonical(request: HttpRequest) -> bool:
    """Whether the request's query is already canonical (compared decoded, so ``%20`` and
    ``+`` or an unescaped ``:`` do not count as differences)."""
    raw = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
    return raw == canonical_pairs(request.GET)


def kept_on_filter(params: QueryDict) -> dict[str, str]:
    """The parameters a filter change carries over (sort and page size), non-empty only."""
    return {name: value for name in KEPT_ON_FILTER if (value := params.get(name) or "")}


def canonical_url_view(view: Callable[P, R]) -> Callable[P, R | HttpResponseRedirect]:
    """Answer a GET list view's non-canonical query with the canonical URL.

    A plain request is redirected (302) to it, so the address bar and bookmarks only ever hold
    canonical URLs; an htmx fragment is rendered as asked and its response carries
    ``HX-Push-Url`` with the canonical URL (htmx pushes that instead of the raw one).
    """

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | HttpResponseRedirect:
        request = cast(HttpRequest, args[0])
        if request.method != "GET" or is_canonical(request):
            return view(*args, **kwargs)
        if not wants_fragment(request):
            return HttpResponseRedirect(canonical_url(request))
        response = view(*args, **kwargs)
        if 200 <= response.status_code < 300:
            push_url(response, canonical_url(request))
        return response

    return wrapper


def filter_change_url(request: HttpRequest, **changes: str | None) -> str:
    """The canonical URL of the list with ``changes`` applied as a filter change (rule 1):
    each key set to its value (``None`` or ``""`` removes it), the position dropped, sort,
    page size and every other filter kept.

    The facet and date hierarchy links are built with it::

        filter_change_url(request, transition="pay")  # "/panel/audit/?transition=pay&sort=…"
    """
    pairs = dict(canonical_pairs(request.GET))
    for name in POSITION:
        pairs.pop(name, None)
    for name, value in changes.items():
        if value:
            pairs[name] = value  # in its place when present: the URL changes in one spot
        else:
            pairs.pop(name, None)
    query = canonical_query(pairs)
    return f"{request.path}?{query}" if query else request.path
