"""Issue 14, defect 2: an htmx request without a session sends the tab to the login page."""

from __future__ import annotations

from django.test import Client, TestCase
from django.urls import reverse

from tests.patterns_admin.conftest import make_staff

LOGIN = reverse("admin:login")


class HtmxLoginRedirectTests(TestCase):
    def test_htmx_request_without_session_gets_hx_redirect_to_login(self) -> None:
        url = reverse("patterns_admin:stream-detail", args=["cart-1"]) + "?tail_after=3"
        response = Client().get(
            url,
            headers={
                "HX-Request": "true",
                "HX-Current-URL": "http://testserver/panel/streams/cart-1/",
            },
        )
        assert response.status_code == 200
        assert response["HX-Redirect"] == LOGIN + "?next=%2Fpanel%2Fstreams%2Fcart-1%2F"
        assert response.content == b""  # nothing of the login page is swapped in

    def test_htmx_post_without_session_gets_hx_redirect_too(self) -> None:
        response = Client().post(
            reverse("patterns_admin:command-undo", args=[1]), headers={"HX-Request": "true"}
        )
        assert response["HX-Redirect"].startswith(LOGIN + "?next=")

    def test_plain_request_keeps_the_redirect(self) -> None:
        response = Client().get(reverse("patterns_admin:audit-list"))
        assert response.status_code == 302
        assert response["Location"] == LOGIN + "?next=/panel/audit/"

    def test_other_redirects_of_htmx_requests_are_left_alone(self) -> None:
        client = Client()
        client.force_login(make_staff("viewer"))
        response = client.get(
            reverse("patterns_admin:audit-list") + "?model=",
            headers={"HX-Boosted": "true", "HX-Request": "true"},
        )
        # A boosted request wants a page: the canonical-URL redirect stays a redirect.
        assert response.status_code == 302
        assert "HX-Redirect" not in response
