"""Users for the panel's view tests: anonymous, staff without permissions, staff with them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

#: The read permission of every area (not view_sensitive): what a "reader" holds.
READ_PERMISSIONS = ("view_audit", "view_commands", "view_streams", "view_projections", "view_cqrs")


def make_staff(username: str, *codenames: str, read: bool = True) -> User:
    """A staff user holding the given ``patterns_admin`` permissions.

    With ``read`` (the default) the user also reads every area (:data:`READ_PERMISSIONS`), so
    tests about one action need not list them; ``read=False`` gives exactly ``codenames``.
    """
    user = User.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    if read:
        codenames = tuple(dict.fromkeys((*READ_PERMISSIONS, *codenames)))
    if codenames:
        perms = Permission.objects.filter(
            content_type__app_label="patterns_admin", codename__in=codenames
        )
        assert perms.count() == len(codenames), codenames
        user.user_permissions.add(*perms)
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


def make_transitions(count: int, **fields: Any) -> None:
    """Bulk-create ``count`` ``shop.order`` pay rows (object ids ``"0"``, ``"1"``, ...).

    ``fields`` override the defaults; a callable value is called with the row's index.
    """
    from toolkit.models import StateTransitionAudit

    defaults: dict[str, Any] = {
        "model": "shop.order",
        "machine": "M",
        "transition": "pay",
        "from_state": "new",
        "to_state": "paid",
    }
    StateTransitionAudit.objects.bulk_create(
        StateTransitionAudit(
            object_id=str(i),
            **{
                name: value(i) if callable(value) else value
                for name, value in {**defaults, **fields}.items()
            },
        )
        for i in range(count)
    )


@pytest.fixture
def staff_client(db: None) -> Client:
    """A client logged in as staff who reads every area but holds no action permission."""
    client = Client()
    client.force_login(make_staff("viewer"))
    return client


class max_queries:
    """Context manager: fail if the block runs more than ``limit`` queries (an upper bound)."""

    def __init__(self, limit: int) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.limit = limit
        self.context = CaptureQueriesContext(connection)

    def __enter__(self) -> max_queries:
        self.context.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.__exit__(*exc)
        if exc[0] is None:
            count = len(self.context.captured_queries)
            queries = "\n".join(q["sql"] for q in self.context.captured_queries)
            assert count <= self.limit, f"{count} queries > {self.limit}:\n{queries}"

    def __len__(self) -> int:
        return len(self.context.captured_queries)
