"""``seed_replication`` fills the replication demo and its replicas."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TransactionTestCase

from demo.replication.models import CustomerReplica, Product, ProductReplica
from toolkit.cqrs.models import CqrsDeadLetter
from toolkit.patterns.plugin import reset_plugin_registry


class SeedReplicationTests(TransactionTestCase):
    def test_seed_replicates_masters_and_adds_one_dead_letter(self):
        out = StringIO()
        call_command("seed_replication", stdout=out)
        assert out.getvalue() == "Seeded 4 products and 2 customers and 1 dead letter.\n"
        assert ProductReplica.objects.count() == Product.objects.count() == 4
        assert ProductReplica.objects.get(sku="MUG-03").stock == 99
        assert CustomerReplica.objects.get(email_domain="example.org", tier="gold")
        assert CqrsDeadLetter.objects.get().reason == "expired"
        call_command("seed_replication", "--no-dead-letter", stdout=StringIO())
        assert Product.objects.count() == 4
        assert CqrsDeadLetter.objects.count() == 1

    def test_if_empty_seeds_once(self):
        out = StringIO()
        call_command("seed_replication", "--if-empty", stdout=out)
        call_command("seed_replication", "--if-empty", stdout=out)
        assert out.getvalue().splitlines() == [
            "Seeded 4 products and 2 customers and 1 dead letter.",
            "The replication demo has data already: nothing seeded (--if-empty).",
        ]
        assert CqrsDeadLetter.objects.count() == 1

    def test_seed_demo_includes_the_replication_demo(self):
        # seed_demo activates the entry-point plugins of this process; leave them off after.
        self.addCleanup(reset_plugin_registry)
        out = StringIO()
        call_command("seed_demo", "--orders", "0", "--events", "0", "--no-progress", stdout=out)
        assert "Seeded 4 products and 2 customers and 1 dead letter." in out.getvalue()
        assert ProductReplica.objects.count() == 4
        assert CustomerReplica.objects.count() == 2
