"""Message bodies the CQRS tests feed to the consumer."""

from __future__ import annotations

import json


def save_body(pk: int, name: object = "Chair", price: object = "1.00", revision: int = 0) -> str:
    """A django-cqrs SAVE of the demo's ``product`` with these values, as JSON text."""
    return json.dumps(
        {
            "signal_type": "SAVE",
            "cqrs_id": "product",
            "instance_pk": pk,
            "instance_data": {
                "id": pk,
                "sku": f"P-{pk}",
                "name": name,
                "price": price,
                "stock": 1,
                "is_active": True,
                "cqrs_revision": revision,
                "cqrs_updated": "2026-01-01 00:00:00+00:00",
            },
        }
    )
