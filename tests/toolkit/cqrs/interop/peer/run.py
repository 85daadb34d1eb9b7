"""The django-cqrs peer process of the interoperability tests.

``python -m tests.toolkit.cqrs.interop.peer.run COMMAND`` with
``DJANGO_SETTINGS_MODULE=tests.toolkit.cqrs.interop.peer_settings``:

* ``setup``: create the peer's tables;
* ``declare``: declare its replica queue and bindings (as its consumer does), then exit;
* ``consume TIMEOUT``: run django-cqrs' own consumer until the replica rows equal the JSON read
  from stdin (exit 0) or TIMEOUT seconds passed (exit 1); prints the rows either way;
* ``master``: run a scenario on a django-cqrs master (create, update with tracked fields,
  an ``F()`` update, delete, bulk create, bulk update, sync) and print the master rows.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from decimal import Decimal

import django


def _rows(model, extra=()):
    fields = ["id", "sku", "name", "price", "stock", "is_active", "cqrs_revision", *extra]
    return [
        {k: str(v) if isinstance(v, Decimal) else ("" if v is None else v) for k, v in row.items()}
        for row in model._default_manager.order_by("id").values(*fields)
    ]


def dump() -> dict:
    from tests.toolkit.cqrs.interop.peer.models import PeerCustomerReplica, PeerProductReplica

    customers = list(
        PeerCustomerReplica._default_manager.order_by("id").values(
            "id", "full_name", "email", "tier", "previous_tier", "previous_email", "cqrs_revision"
        )
    )
    return {"product": _rows(PeerProductReplica, ["previous_name"]), "customer": customers}


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.toolkit.cqrs.interop.peer_settings")
    django.setup()
    command = argv[0]
    if command == "setup":
        from django.core.management import call_command

        call_command("migrate", run_syncdb=True, verbosity=0)
        return 0
    if command == "declare":
        from dj_cqrs.transport.rabbit_mq import RabbitMQTransport

        connection, _, _ = RabbitMQTransport._get_consumer_rmq_objects(
            *(RabbitMQTransport._get_common_settings() + RabbitMQTransport._get_consumer_settings())
        )
        connection.close()
        print("declared", flush=True)
        return 0
    if command == "consume":
        from dj_cqrs.transport.rabbit_mq import RabbitMQTransport
        from django.db import close_old_connections

        expected = json.loads(sys.stdin.read())
        threading.Thread(target=RabbitMQTransport.consume, daemon=True).start()
        deadline = time.monotonic() + float(argv[1])
        while True:
            close_old_connections()
            rows = dump()
            done = all(rows[key] == value for key, value in expected.items())
            if done or time.monotonic() > deadline:
                print(json.dumps(rows), flush=True)
                os._exit(0 if done else 1)
            time.sleep(0.3)
    if command == "master":
        from django.db import transaction
        from django.db.models import F

        from tests.toolkit.cqrs.interop.peer.models import PeerProduct

        a = PeerProduct.objects.create(sku="P-1", name="Lamp", price=Decimal("9.50"), stock=3)
        b = PeerProduct.objects.create(sku="P-2", name="Desk", price=Decimal("120"), stock=1)
        c = PeerProduct.objects.create(sku="P-3", name="Gone", price=Decimal("1"), stock=1)
        a.name, a.stock = "Lamp XL", 4  # tracked: previous_data {"name": "Lamp", "stock": 3}
        a.save()
        b.stock = F("stock") + 10  # refreshed before it is serialised
        b.save()
        with transaction.atomic():
            c.delete()
        bulk = PeerProduct.cqrs.bulk_create(
            [
                PeerProduct(id=100 + n, sku=f"B-{n}", name=f"Bulk {n}", price=Decimal(n))
                for n in range(3)
            ]
        )
        PeerProduct.cqrs.bulk_update(PeerProduct.objects.filter(sku__startswith="B-"), stock=7)
        bulk[0].refresh_from_db()
        bulk[0].cqrs_sync()
        print(json.dumps(_rows(PeerProduct)), flush=True)
        return 0
    raise SystemExit(f"unknown command {command!r}; commands: consume, declare, master, setup")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
