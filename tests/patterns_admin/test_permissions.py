"""Panel permissions: codenames, the 403 decorator, record_action/_failure, wants_fragment."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, TestCase
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from patterns_admin.audit import record_action, record_failure
from patterns_admin.http import wants_fragment
from patterns_admin.models import PanelActionLog
from patterns_admin.permissions import (
    PERMISSIONS,
    full_permission_name,
    permission_required_403,
)
from tests.patterns_admin.conftest import make_staff


def test_full_permission_name_accepts_bare_and_dotted_codenames() -> None:
    assert full_permission_name("undo_command") == "patterns_admin.undo_command"
    assert full_permission_name("patterns_admin.replay_events") == "patterns_admin.replay_events"


def test_unknown_codename_fails_when_decorating() -> None:
    with pytest.raises(ValueError) as info:
        permission_required_403("undo_everything")
    assert info.value.args == (
        "Unknown panel permission 'undo_everything'; valid codenames: 'force_undo', "
        "'manage_cqrs', 'replay_events', 'toggle_plugin', 'trigger_transition', "
        "'undo_command', 'view_audit', 'view_commands', 'view_cqrs', 'view_projections', "
        "'view_sensitive', 'view_streams'",
    )


def _request(headers: dict[str, str]) -> HttpRequest:
    request = RequestFactory().get("/", headers=headers)
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    return request


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    ],
    ids=["plain", "htmx", "boosted", "history-restore"],
)
def test_wants_fragment(headers: dict[str, str], expected: bool) -> None:
    assert wants_fragment(_request(headers)) is expected


def test_wants_fragment_without_the_middleware_is_false() -> None:
    assert wants_fragment(RequestFactory().get("/")) is False


class PermissionTests(TestCase):
    def test_migrate_creates_every_permission(self) -> None:
        codenames = set(
            Permission.objects.filter(
                content_type__app_label="patterns_admin", content_type__model="panelpermission"
            ).values_list("codename", flat=True)
        )
        assert codenames == set(PERMISSIONS)

    def test_decorator_refuses_without_calling_the_view(self) -> None:
        calls: list[str] = []

        @permission_required_403("toggle_plugin")
        def view(request: HttpRequest) -> HttpResponse:
            calls.append("called")
            return HttpResponse("done")

        request = RequestFactory().post("/")
        request.user = make_staff("viewer")
        response = view(request)
        assert response.status_code == 403
        assert calls == []
        html = response.content.decode()
        assert "patterns_admin.toggle_plugin" in html
        assert "enable and disable plugins" in html
        assert "Nothing was changed." in html

        request.user = make_staff("operator", "toggle_plugin")
        assert view(request).content == b"done"
        assert calls == ["called"]

    def test_inactive_or_non_staff_users_are_refused_even_with_the_permission(self) -> None:
        @permission_required_403("undo_command")
        def view(request: HttpRequest) -> HttpResponse:
            return HttpResponse("done")

        user = make_staff("former", "undo_command")
        user.is_active = False
        request = RequestFactory().post("/")
        request.user = user
        assert view(request).status_code == 403
        request.user = AnonymousUser()
        assert view(request).status_code == 403

    def test_superuser_holds_every_panel_permission(self) -> None:
        @permission_required_403("manage_cqrs")
        def view(request: HttpRequest) -> HttpResponse:
            return HttpResponse("done")

        request = RequestFactory().post("/")
        request.user = User.objects.create_superuser("root", "root@example.com", "pw")
        assert view(request).status_code == 200

    def test_record_action_keeps_the_user_and_details(self) -> None:
        user = make_staff("operator")
        row = record_action(
            user=user, action="undo_command", target="command#1", detail={"undo_id": 2}
        )
        assert (row.user, row.action, row.target, row.detail, row.success) == (
            user,
            "undo_command",
            "command#1",
            {"undo_id": 2},
            True,
        )
        anonymous = record_action(user=AnonymousUser(), action="x", target="y" * 300, success=False)
        assert anonymous.user is None and anonymous.success is False
        assert len(PanelActionLog.objects.get(pk=anonymous.pk).target) == 255

    def test_record_failure_adds_the_error_and_its_type_to_the_detail(self) -> None:
        user = make_staff("operator")
        row = record_failure(
            user=user,
            action="toggle_plugin",
            target="plugin:x",
            exc=KeyError("x"),
            detail={"action": "enable"},
        )
        assert (row.user, row.action, row.target, row.success) == (
            user,
            "toggle_plugin",
            "plugin:x",
            False,
        )
        assert row.detail == {"action": "enable", "error": "'x'", "error_type": "KeyError"}


@pytest.mark.django_db
def test_refusal_is_a_fragment_for_htmx_and_the_full_page_for_boosted_navigation(
    client: Client,
) -> None:
    client.force_login(make_staff("viewer"))
    url = reverse("patterns_admin:command-undo-confirm", args=[1])
    pages = {
        "plain": client.get(url),
        "htmx": client.get(url, headers={"HX-Request": "true"}),
        "boosted": client.get(url, headers={"HX-Request": "true", "HX-Boosted": "true"}),
    }
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(pages, 403)
    full = {name: "<html" in r.content.decode() for name, r in pages.items()}
    assert full == {"plain": True, "htmx": False, "boosted": True}
    assert all("patterns_admin.undo_command" in r.content.decode() for r in pages.values())
