"""The allocation admin shows rows but changes nothing: the message bus owns every write."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import Permission, User
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


class BatchQuantityAdminTests(TestCase):
    """The admin's one change: a batch's quantity, as ``ChangeBatchQuantity`` on the bus."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.admin = User.objects.create_superuser("root", "root@example.com", "pw")
        cls.viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
        cls.viewer.user_permissions.add(Permission.objects.get(codename="view_batch"))

    def setUp(self) -> None:
        bus = bootstrap.bootstrap()
        bus.handle(commands.CreateBatch("b1", "LAMP", 10))
        bus.handle(commands.CreateBatch("b2", "LAMP", 10, date(2026, 6, 1)))
        bus.handle(commands.Allocate("o1", "LAMP", 8))
        self.batch = models.Batch.objects.get(reference="b1")
        self.url = f"/admin/allocation/batch/{self.batch.pk}/quantity/"

    def test_changelist_links_to_the_quantity_form(self) -> None:
        self.client.force_login(self.admin)
        html = self.client.get("/admin/allocation/batch/").content.decode()
        assert f'<a href="{self.url}">Change quantity</a>' in html
        assert '<td class="field-allocated">8</td>' in html
        form = self.client.get(self.url)
        assert form.status_code == 200
        assert 'name="qty" value="10"' in form.content.decode()

    def test_lowering_the_quantity_reallocates_through_the_bus(self) -> None:
        self.client.force_login(self.admin)
        response = self.client.post(self.url, {"qty": "5"}, follow=True)
        assert response.redirect_chain == [("/admin/allocation/batch/", 302)]
        assert "Batch &#x27;b1&#x27; now holds 5" in response.content.decode()
        self.batch.refresh_from_db()
        assert self.batch.purchased_quantity == 5
        moved = models.Allocation.objects.get(orderid="o1")
        assert moved.batch.reference == "b2"
        assert list(models.AllocationView.objects.values_list("orderid", "batchref")) == [
            ("o1", "b2")
        ]

    def test_bad_quantity_is_a_form_error_and_changes_nothing(self) -> None:
        self.client.force_login(self.admin)
        response = self.client.post(self.url, {"qty": "-1"})
        assert response.status_code == 200
        assert "Ensure this value is greater than or equal to 0." in response.content.decode()
        self.batch.refresh_from_db()
        assert self.batch.purchased_quantity == 10

    def test_without_the_change_permission_it_is_refused(self) -> None:
        self.client.force_login(self.viewer)
        assert self.client.get(self.url).status_code == 403
        assert self.client.post(self.url, {"qty": "1"}).status_code == 403
        self.batch.refresh_from_db()
        assert self.batch.purchased_quantity == 10
