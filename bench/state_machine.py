"""``StateMachine.trigger`` vs django-fsm-2's ``@transition``, without a database.

Run: ``python -m bench.state_machine``. Goal: trigger at least 2x django-fsm-2's transition.

django-fsm-2 needs an ``FSMField`` on a model, so both sides run on unsaved instances of one
unmanaged model (no ``save``, no audit, no query): one ``pay`` and one ``refund`` per loop
(pending -> paid -> pending), each a guarded transition. A third row runs ``trigger`` on a plain
Python object with the same two transitions. Each figure is the best of several rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import django
from django.conf import settings

from bench._timing import best_per_loop

ROUNDS = 7
LOOPS = 50_000


def _configure() -> None:
    if settings.configured:
        return
    settings.configure(INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"])
    django.setup()


def _best(func: Callable[[], None]) -> float:
    """Best time per loop, in microseconds."""
    return best_per_loop(func, rounds=ROUNDS, loops=LOOPS)


def _has_items(entity: Any, user: Any = None) -> bool:
    return True


def build() -> tuple[Callable[[], None], Callable[[], None], Callable[[], None]]:
    """The three loops: django-fsm-2 on a model, trigger on the same model, trigger on a plain
    object."""
    from django.db import models
    from django_fsm import FSMField, transition

    from toolkit.patterns.state_machine import StateMachine, Transition

    class BenchOrder(models.Model):
        state = FSMField(default="pending")

        class Meta:
            app_label = "bench"
            managed = False

        def __str__(self) -> str:
            return f"bench order ({self.state})"

        @transition(field=state, source="pending", target="paid", conditions=[_has_items])
        def pay(self) -> None:
            pass

        @transition(field=state, source="paid", target="pending", conditions=[_has_items])
        def refund(self) -> None:
            pass

    class BenchMachine(StateMachine):
        class Meta:
            name = "bench-order"
            states = ["pending", "paid"]
            state_field = "state"
            audit = False
            transitions = [
                Transition("pay", source="pending", target="paid", guards=[_has_items]),
                Transition("refund", source="paid", target="pending", guards=[_has_items]),
            ]

    machine = BenchMachine()
    fsm_order = BenchOrder()
    model_order = BenchOrder()
    plain_order = SimpleNamespace(state="pending")

    def fsm_loop() -> None:
        for _ in range(LOOPS):
            fsm_order.pay()
            fsm_order.refund()

    def model_loop() -> None:
        trigger = machine.trigger
        for _ in range(LOOPS):
            trigger(model_order, "pay")
            trigger(model_order, "refund")

    def plain_loop() -> None:
        trigger = machine.trigger
        for _ in range(LOOPS):
            trigger(plain_order, "pay")
            trigger(plain_order, "refund")

    fsm_loop()
    model_loop()
    plain_loop()
    assert (fsm_order.state, model_order.state, plain_order.state) == ("pending",) * 3
    return fsm_loop, model_loop, plain_loop


def main() -> None:
    _configure()
    fsm_loop, model_loop, plain_loop = build()
    fsm = _best(fsm_loop) / 2
    model = _best(model_loop) / 2
    plain = _best(plain_loop) / 2
    print("state machine transition (no save, no audit), best of", ROUNDS, "x", LOOPS * 2)
    print(f"  django-fsm-2 @transition, unsaved model   {fsm:7.3f} us   {1 / fsm:8.3f} M/s")
    print(f"  StateMachine.trigger, unsaved model       {model:7.3f} us   {1 / model:8.3f} M/s")
    print(f"  StateMachine.trigger, plain object        {plain:7.3f} us   {1 / plain:8.3f} M/s")
    print(f"  ratio trigger/django-fsm-2 (same model):  {fsm / model:.2f}x faster (goal >= 2x)")
    print(f"  ratio trigger/django-fsm-2 (plain object): {fsm / plain:.2f}x faster (goal >= 2x)")


if __name__ == "__main__":
    main()
