"""The allocation admin shows rows but changes nothing: the message bus owns every write."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import TestCase

from demo.allocation import bootstrap, commands, models


class AllocationAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.admin = User.objects.create_superuser("root", "root@example.com", "pw")

    def setUp(self) -> None:
        self.client.force_login(self.admin)
        bus = bootstrap.bootstrap()
        bus.handle(commands.CreateBatch("b1", "LAMP", 10))
        bus.handle(commands.Allocate("o1", "LAMP", 2))

    def test_changelists_and_detail_pages_show_the_rows(self) -> None:
        product = models.Product.objects.get(sku="LAMP")
        for url, text in [
            ("/admin/allocation/product/", "LAMP"),
            ("/admin/allocation/allocation/", "o1"),
            ("/admin/allocation/allocationview/", "o1"),
            (f"/admin/allocation/product/{product.pk}/change/", "b1"),
        ]:
            response = self.client.get(url)
            assert (response.status_code, text in response.content.decode()) == (200, True), url

    def test_add_change_and_delete_are_refused_and_write_nothing(self) -> None:
        product = models.Product.objects.get(sku="LAMP")
        version = product.version_number
        assert self.client.get("/admin/allocation/product/add/").status_code == 403
        response = self.client.post(
            f"/admin/allocation/product/{product.pk}/change/",
            {"sku": "LAMP", "version_number": version + 5},
        )
        assert response.status_code == 403
        delete = self.client.post(
            f"/admin/allocation/product/{product.pk}/delete/", {"post": "yes"}
        )
        assert delete.status_code == 403
        product.refresh_from_db()
        assert (product.version_number, models.Batch.objects.count()) == (version, 1)
