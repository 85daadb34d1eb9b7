"""HTTP entry points of the allocation demo, and ``/metrics`` for Prometheus.

Thin views: parse input, call the service layer, render JSON.

* ``GET  /allocation/`` → a page with stock per batch, the read model and an allocate form
  (``POST`` to the same URL, POST/redirect/GET);
* ``GET  /allocation/orders/<orderid>/`` → the read model of the order;
* ``POST /allocation/allocate/`` (form or JSON ``orderid``, ``sku``, ``qty``) → the batch;
* ``GET  /metrics`` → ``prometheus_client``'s text exposition: of this process's default
  registry, or, when ``PROMETHEUS_MULTIPROC_DIR`` is set (several worker processes, e.g.
  gunicorn), of every process's samples in that directory (prometheus_client's multiprocess
  mode; the variable must be set before the workers start).
"""

from __future__ import annotations

import json
from typing import Any

import icontract
from django.contrib import messages
from django.db.models import Prefetch, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from demo.allocation import models, services
from demo.allocation.exceptions import InvalidSku, OutOfStockError


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """Stock per batch, the read model, and a form that allocates an order line."""
    if request.method == "POST":
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


@csrf_exempt  # an API endpoint for scripts; the demo has no session-authenticated form here
@require_POST
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
    scrape behind a load balancer would see one worker at a time.
    """
    import os

    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        # A fresh registry per scrape, as prometheus_client's multiprocess docs require.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
