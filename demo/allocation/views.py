"""HTTP entry points of the allocation demo, and ``/metrics`` for Prometheus.

Thin views: parse input, call the service layer, render JSON.

* ``GET  /allocation/`` → a page with stock per batch, the read model and an allocate form
  (``POST`` to the same URL, POST/redirect/GET; the POST needs a logged-in user and CSRF);
* ``GET  /allocation/orders/<orderid>/`` → the read model of the order;
* ``POST /allocation/allocate/`` (form or JSON ``orderid``, ``sku``, ``qty``) → the batch;
  it writes, so it needs a logged-in session and the CSRF token (``X-CSRFToken`` header or
  ``csrfmiddlewaretoken`` field), like every other write of the site: 401 JSON without a
  user, 403 without the token;
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
from functools import wraps
from typing import Any

import icontract
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db.models import Prefetch, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from demo.allocation import models, services
from demo.allocation.exceptions import InvalidSku, OutOfStockError


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
    data = request.POST
    try:
        qty = int(data.get("qty", ""))
        batchref = services.allocate(data.get("orderid", ""), data.get("sku", ""), qty)
    except ValueError:
        messages.error(request, f"qty must be an integer, not {data.get('qty', '')!r}")
    except (InvalidSku, OutOfStockError) as exc:
        messages.error(request, str(exc))
    except icontract.ViolationError as exc:
        messages.error(request, str(exc).splitlines()[1])
    else:
        messages.success(request, f"Allocated to {batchref}")
    return redirect("allocation:index")


@require_GET
def order_allocations(request: HttpRequest, orderid: str) -> JsonResponse:
    """The order's allocations from the read model."""
    return JsonResponse({"orderid": orderid, "allocations": services.allocations(orderid)})


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


@require_POST
@_login_required_json
def allocate(request: HttpRequest) -> JsonResponse:
    """Allocate ``orderid``/``sku``/``qty``; 400 with the error message on bad input."""
    data = _payload(request)
    missing = [k for k in ("orderid", "sku", "qty") if not str(data.get(k, "")).strip()]
    if missing:
        return JsonResponse({"error": f"missing fields: {', '.join(missing)}"}, status=400)
    try:
        qty = int(data["qty"])
    except (TypeError, ValueError):
        return JsonResponse({"error": f"qty must be an integer, not {data['qty']!r}"}, status=400)
    try:
        batchref = services.allocate(str(data["orderid"]), str(data["sku"]), qty)
    except (InvalidSku, OutOfStockError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    except icontract.ViolationError as exc:
        return JsonResponse({"error": str(exc).splitlines()[1]}, status=400)
    return JsonResponse({"batchref": batchref}, status=201)


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
