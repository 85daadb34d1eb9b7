"""HTTP entry points of the allocation demo (the book's Flask API, done with Django views),
the book's read view :func:`allocations`, and ``/metrics`` for Prometheus.

Thin views: parse input, build a command, ``bootstrap.bootstrap().handle(command)``, answer.
A bus is built per request: the Django unit of work keeps per-block state, so requests on
several threads must not share one.

* ``GET  /allocation/`` → a page with stock per batch, the read model and an allocate form
  (``POST`` to the same URL, POST/redirect/GET; the POST needs a logged-in user and CSRF);
* ``POST /allocation/add_batch/`` (form or JSON ``ref``, ``sku``, ``qty``, ``eta``) → 201;
* ``POST /allocation/allocate/`` (form or JSON ``orderid``, ``sku``, ``qty``) → 202, or 400
  ``{"message": "Invalid sku X"}`` (the book's answers). The two POSTs write, so they need a
  logged-in session and the CSRF token (``X-CSRFToken`` header or ``csrfmiddlewaretoken``
  field), like every other write of the site: 401 JSON without a user, 403 without the token;
* ``GET  /allocation/orders/<orderid>/`` → the read model of the order, a JSON list, or 404;
* ``GET  /metrics`` → ``prometheus_client``'s text exposition: of this process's default
  registry, or, when ``PROMETHEUS_MULTIPROC_DIR`` is set (several worker processes, e.g.
  gunicorn), of every process's samples in that directory (prometheus_client's multiprocess
  mode; the variable must be set before the workers start). Public in development; with
  ``METRICS_REQUIRE_AUTH = True`` (the production example) it answers only staff users and
  scrapers that send ``Authorization: Bearer <METRICS_BEARER_TOKEN>``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from demo.allocation import bootstrap, commands, models
from demo.allocation.exceptions import InvalidSku
from demo.allocation.unit_of_work import AbstractUnitOfWork


def allocations(orderid: str, uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    """The book's read view: ``[{"sku": ..., "batchref": ...}]`` of an order, from the read
    model, with ``values()`` (no model instances)."""
    with uow:
        rows = models.AllocationView.objects.filter(orderid=orderid).order_by("sku")
        return [dict(row) for row in rows.values("sku", "batchref")]


def _login_required_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 401 JSON to an anonymous caller: an API client wants an error it can read, not
    the login page ``login_required`` would redirect it to."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse(
                {"error": "authentication required: log in, then POST with the CSRF token"},
                status=401,
            )
        return view(request, *args, **kwargs)

    return wrapper


class BadInput(ValueError):
    """A request field is missing or malformed; the message says which and why."""


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise BadInput("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadInput("the body must be a JSON object")
        return data
    return request.POST.dict()


def _fields(data: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if not str(data.get(name, "") or "").strip()]
    if missing:
        raise BadInput(f"missing fields: {', '.join(missing)}")


def _quantity(value: Any, *, minimum: int) -> int:
    try:
        qty = int(value)
    except (TypeError, ValueError):
        raise BadInput(f"qty must be an integer, not {value!r}") from None
    if qty < minimum:
        raise BadInput(f"qty must be at least {minimum}, not {qty}")
    return qty


def _allocate_command(data: dict[str, Any]) -> commands.Allocate:
    _fields(data, "orderid", "sku", "qty")
    qty = _quantity(data["qty"], minimum=1)
    return commands.Allocate(str(data["orderid"]), str(data["sku"]), qty)


def _create_batch_command(data: dict[str, Any]) -> commands.CreateBatch:
    _fields(data, "ref", "sku", "qty")
    eta = data.get("eta") or None
    if eta is not None:
        try:
            eta = date.fromisoformat(str(eta))
        except ValueError:
            raise BadInput(f"eta must be a date (YYYY-MM-DD), not {eta!r}") from None
    qty = _quantity(data["qty"], minimum=0)
    return commands.CreateBatch(str(data["ref"]), str(data["sku"]), qty, eta)


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """Stock per batch, the read model, and a form that allocates an order line.

    Anyone may look; only a logged-in user may allocate (the POST), so an anonymous
    cross-site form cannot write (CSRF is checked by the middleware as for every POST).
    """
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return _allocate_from_form(request)
    batches = models.Batch.objects.select_related("product").annotate(
        allocated=Sum("allocations__qty")
    )
    products = models.Product.objects.order_by("sku").prefetch_related(
        Prefetch("batches", queryset=batches.order_by("eta", "reference"))
    )
    rows = models.AllocationView.objects.order_by("orderid", "sku").values(
        "orderid", "sku", "batchref"
    )[:200]
    return render(request, "allocation/index.html", {"products": products, "allocations": rows})


def _allocate_from_form(request: HttpRequest) -> HttpResponse:
    try:
        cmd = _allocate_command(request.POST.dict())
        bus = bootstrap.bootstrap()
        bus.handle(cmd)
    except (BadInput, InvalidSku) as exc:
        messages.error(request, str(exc))
        return redirect("allocation:index")
    # The command answers nothing (CQRS): the read model says where the line went.
    placed = [row for row in allocations(cmd.orderid, bus.uow) if row["sku"] == cmd.sku]
    if placed:
        messages.success(request, f"Allocated to {placed[0]['batchref']}")
    else:
        messages.error(request, f"Out of stock for {cmd.sku}")
    return redirect("allocation:index")


@require_GET
def order_allocations(request: HttpRequest, orderid: str) -> HttpResponse:
    """The order's allocations from the read model; 404 when it has none (as the book)."""
    result = allocations(orderid, bootstrap.bootstrap().uow)
    if not result:
        return JsonResponse({"message": "not found"}, status=404)
    return JsonResponse(result, safe=False)


@require_POST
@_login_required_json
def add_batch(request: HttpRequest) -> JsonResponse:
    """``CreateBatch``: 201, or 400 with the error message on bad input."""
    try:
        cmd = _create_batch_command(_payload(request))
        bootstrap.bootstrap().handle(cmd)
    except BadInput as exc:
        return JsonResponse({"message": str(exc)}, status=400)
    return JsonResponse({"message": "OK"}, status=201)


@require_POST
@_login_required_json
def allocate(request: HttpRequest) -> JsonResponse:
    """``Allocate``: 202 (the line is allocated, or ``OutOfStock`` was handled), or 400 with
    the message (``Invalid sku X``) on bad input."""
    try:
        bootstrap.bootstrap().handle(_allocate_command(_payload(request)))
    except (BadInput, InvalidSku) as exc:
        return JsonResponse({"message": str(exc)}, status=400)
    return JsonResponse({"message": "OK"}, status=202)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition: all worker processes in multiprocess mode, else this one.

    Without ``PROMETHEUS_MULTIPROC_DIR`` each process only knows its own observations, so a
    scrape behind a load balancer would see one worker at a time. With
    ``METRICS_REQUIRE_AUTH`` the samples (which name services, stories and error rates) are
    served only to staff users and to a scraper with the bearer token.
    """
    import os

    if settings.METRICS_REQUIRE_AUTH and not _may_scrape(request):
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response

    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        # A fresh registry per scrape, as prometheus_client's multiprocess docs require.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _may_scrape(request: HttpRequest) -> bool:
    """A staff user, or ``Authorization: Bearer <settings.METRICS_BEARER_TOKEN>`` (compared in
    constant time; an empty token setting never matches)."""
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token: str = settings.METRICS_BEARER_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given, token)
