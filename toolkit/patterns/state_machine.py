"""State Machine: declarative, audited entity lifecycles.

::

    class OrderMachine(StateMachine):
        class Meta:
            model = Order                       # optional: registers the machine for Order
            states = ["pending", "paid", "shipped", "cancelled"]
            state_field = "status"
            audit = True                        # StateTransitionAudit rows
            transitions = [
                Transition("pay", source="pending", target="paid", permission="shop.pay_order"),
                Transition("ship", source="paid", target="shipped"),
                Transition("cancel", source="pending", target="cancelled",
                           guards=[Guard(lambda o, u: o.can_cancel, "paid orders ship")]),
            ]

    machine = OrderMachine()
    machine.trigger(order, "pay", user=request.user)

The decision (known transition, source state, permission, guards) is plain Python on the
entity in memory. Then one seam applies it:

- a saved Django model instance: in one ``transaction.atomic`` a conditional
  ``UPDATE ... WHERE pk = ... AND <state_field> = <from_state>`` changes the state (0 rows:
  someone else moved it first, :class:`InvalidTransition` with the state now in the database,
  nothing written), the audit row is inserted, and ``<model_name>.<transition>`` is emitted
  on the default bus after commit;
- anything else (a plain object, an unsaved instance): the attribute is set, nothing more.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from toolkit.contrib.otel import is_enabled as otel_enabled
from toolkit.contrib.otel import span
from toolkit.core.compat import ImproperlyConfigured
from toolkit.core.exceptions import (
    GuardFailed,
    InvalidTransition,
    TransitionNotPermitted,
    ValidationError,
)
from toolkit.core.validation import check_text
from toolkit.patterns.observer import EventBus
from toolkit.patterns.state_graphs import render_dot, render_mermaid

__all__ = ["Guard", "StateMachine", "Transition", "TransitionCheck", "guard"]


GuardFunc = Callable[[Any, Any], bool]
PermissionCheck = str | Callable[[Any, Any], bool]
F = TypeVar("F", bound=GuardFunc)

#: The longest ``reason`` a transition accepts (a note for people, kept in the audit row).
REASON_MAX_LENGTH = 10_000


class Guard:
    """A guard ``(entity, user) -> bool`` with a human explanation shown when it fails.

    ``Guard(lambda order, user: order.total > 0, "The order is empty")``; see :func:`guard`.
    """

    __slots__ = ("explanation", "func", "name")

    def __init__(
        self, func: GuardFunc, explanation: str | None = None, *, name: str | None = None
    ) -> None:
        self.func = func
        self.explanation = explanation
        self.name = name or getattr(func, "__name__", None) or repr(func)

    def __call__(self, entity: Any, user: Any) -> bool:
        return bool(self.func(entity, user))

    def __repr__(self) -> str:
        return f"Guard({self.name!r}, explanation={self.explanation!r})"


def guard(explanation: str) -> Callable[[GuardFunc], Guard]:
    """Decorator: turn ``def can_ship(order, user) -> bool`` into a :class:`Guard`.

    ::

        @guard("Only paid orders with an address can ship")
        def can_ship(order, user):
            return bool(order.address)
    """

    def decorator(func: GuardFunc) -> Guard:
        return Guard(func, explanation)

    return decorator


def _as_guard(value: Guard | GuardFunc) -> Guard:
    return value if isinstance(value, Guard) else Guard(value)


class Transition:
    """One named move from ``source`` (a state, a list of states or ``"*"``) to ``target``.

    ``guards`` are :class:`Guard` objects or plain ``(entity, user) -> bool`` callables;
    ``permission`` is a permission name checked with ``user.has_perm`` or a callable
    ``(entity, user) -> bool``; ``label`` is the human name (default: ``name``).
    """

    __slots__ = ("guards", "label", "name", "permission", "sources", "target")

    def __init__(
        self,
        name: str,
        source: str | Sequence[str],
        target: str,
        *,
        guards: Iterable[Guard | GuardFunc] = (),
        permission: PermissionCheck | None = None,
        label: str | None = None,
    ) -> None:
        self.name = name
        self.sources: tuple[str, ...] = (source,) if isinstance(source, str) else tuple(source)
        self.target = target
        self.guards: tuple[Guard, ...] = tuple(_as_guard(g) for g in guards)
        self.permission = permission
        self.label = label or name.replace("_", " ")

    @property
    def source(self) -> str | tuple[str, ...]:
        """The source as given: one state, or the tuple of states."""
        return self.sources[0] if len(self.sources) == 1 else self.sources

    @property
    def permission_name(self) -> str | None:
        """The permission as text (a callable's name), for display."""
        if self.permission is None or isinstance(self.permission, str):
            return self.permission
        return str(getattr(self.permission, "__name__", repr(self.permission)))

    def __repr__(self) -> str:
        return f"Transition({self.name!r}, source={self.source!r}, target={self.target!r})"


@dataclass(frozen=True)
class TransitionCheck:
    """Whether one transition may run now, and why not (``reason``) when it may not."""

    transition: Transition
    allowed: bool
    reason: str | None = None


def _check_permission_and_guards(transition: Transition, entity: Any, user: Any) -> None:
    """Raise unless ``user`` holds the transition's permission and every guard passes (the
    source state is the caller's check). Trigger, its dry run and the model path share it."""
    if transition.permission is not None and not _has_permission(
        transition.permission, entity, user
    ):
        raise TransitionNotPermitted(transition.name, transition.permission_name, user)
    for g in transition.guards:
        if not g.func(entity, user):  # the function itself: Guard.__call__ would add a frame
            raise GuardFailed(transition.name, g.name, g.explanation)


def _has_permission(permission: PermissionCheck | None, entity: Any, user: Any) -> bool:
    if permission is None:
        return True
    if isinstance(permission, str):
        return user is not None and bool(user.has_perm(permission))
    return bool(permission(entity, user))


class StateMachine:
    """Base class of declarative state machines; configure it with an inner ``Meta``.

    ``Meta`` keys: ``states`` (list, the first is the initial state), ``transitions``,
    ``state_field`` (default ``"state"``), ``audit`` (default: the ``audit`` setting),
    ``model`` (optional), ``name`` (optional, default: the class name) and ``protected``
    (optional, needs ``model``: direct assignments to the state field raise
    :class:`InvalidTransition`, so only ``trigger`` changes it). The same keys may be set in
    the class body instead of ``Meta``. Each configured subclass is checked when defined
    (unknown states, duplicate names, a ``state_field`` the model lacks) and registered in
    ``toolkit.registry.machines``.
    """

    name: ClassVar[str] = ""
    model: ClassVar[type[Any] | None] = None
    states: ClassVar[tuple[str, ...]] = ()
    state_field: ClassVar[str] = "state"
    audit: ClassVar[bool | None] = None
    protected: ClassVar[bool] = False
    transitions: ClassVar[list[Transition]] = []
    # Precomputed at class creation so trigger does dictionary lookups only.
    _by_name: ClassVar[dict[str, Transition]] = {}
    _move: ClassVar[dict[tuple[str, Any], Transition]] = {}
    _from_state: ClassVar[dict[Any, tuple[str, ...]]] = {}
    _is_model: ClassVar[dict[type[Any], bool]] = {}
    #: The bus of :meth:`set_event_bus` (per machine instance), or None.
    _event_bus: EventBus | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The configuration lives in an inner ``Meta``; a class that sets ``states`` directly
        # in its body (no ``Meta``) is read the same way, so both spellings of the seed work.
        meta: Any = cls.__dict__.get("Meta")
        if meta is None:
            if "states" not in cls.__dict__:
                return
            meta = _ClassBodyConfig(cls)
        cls.name = getattr(meta, "name", None) or cls.__name__
        cls.model = getattr(meta, "model", None)
        cls.states = tuple(getattr(meta, "states", ()))
        cls.state_field = getattr(meta, "state_field", "state")
        cls.audit = getattr(meta, "audit", None)
        cls.protected = bool(getattr(meta, "protected", False))
        cls.transitions = list(getattr(meta, "transitions", ()))
        cls._compile()
        machine = cls()
        if cls.protected:
            if cls.model is None:
                raise ImproperlyConfigured(
                    f"{cls.__name__}: Meta.protected needs Meta.model (the model whose "
                    f"{cls.state_field!r} field to protect)"
                )
            from toolkit.patterns.state_persistence import protect_state_field

            protect_state_field(machine)
        from toolkit import registry

        registry.machines.register(cls.name, machine)

    @classmethod
    def _compile(cls) -> None:
        if not cls.states:
            raise ImproperlyConfigured(f"{cls.__name__}.Meta.states is empty")
        valid = ", ".join(repr(s) for s in sorted(cls.states))
        by_name: dict[str, Transition] = {}
        move: dict[tuple[str, Any], Transition] = {}
        for t in cls.transitions:
            if t.name in by_name:
                raise ImproperlyConfigured(
                    f"{cls.__name__}: transition {t.name!r} is declared twice"
                )
            by_name[t.name] = t
            if t.sources == ("*",):
                t.sources = tuple(s for s in cls.states if s != t.target)
            for state in (*t.sources, t.target):
                if state not in cls.states:
                    raise ImproperlyConfigured(
                        f"{cls.__name__}: transition {t.name!r} uses unknown state {state!r}; "
                        f"states are: {valid}"
                    )
            for source in t.sources:
                move[(t.name, source)] = t
        if cls.model is not None:
            _check_state_field(cls.__name__, cls.model, cls.state_field)
        cls._by_name = by_name
        cls._move = move
        cls._from_state = {
            s: tuple(t.name for t in cls.transitions if s in t.sources) for s in cls.states
        }
        cls._is_model = {}

    # -- decisions (pure) ----------------------------------------------------------------

    def get_transition(self, name: str) -> Transition:
        """The transition called ``name``; :class:`InvalidTransition` lists the valid names."""
        try:
            return self._by_name[name]
        except KeyError:
            valid = ", ".join(repr(n) for n in sorted(self._by_name)) or "none"
            raise InvalidTransition(
                name,
                None,
                sorted(self._by_name),
                message=f"Unknown transition {name!r} for {self.name}; valid transitions: {valid}",
            ) from None

    def get_state(self, entity: Any) -> Any:
        """The entity's current state (its ``state_field`` attribute)."""
        return getattr(entity, self.state_field)

    def _wrong_source(self, name: str, state: Any) -> InvalidTransition:
        return InvalidTransition(name, state, self._from_state.get(state, ()))

    def _check(self, transition: Transition, state: Any, entity: Any, user: Any) -> None:
        """Raise unless ``transition`` may run from ``state`` for ``user``."""
        if (transition.name, state) not in self._move:
            raise self._wrong_source(transition.name, state)
        _check_permission_and_guards(transition, entity, user)

    def check_transitions(self, entity: Any, user: Any = None) -> list[TransitionCheck]:
        """Every transition with whether it may run now for ``user`` and, if not, why."""
        state = self.get_state(entity)
        return [self._check_one(t, state, entity, user) for t in self.transitions]

    def check_transition(self, entity: Any, name: str, user: Any = None) -> TransitionCheck:
        """Whether transition ``name`` may run now for ``user`` and, if not, why: the dry run
        of :meth:`trigger` (source state, permission, guards), writing nothing.

        Raises :class:`InvalidTransition` listing the valid names for an unknown ``name``.
        """
        return self._check_one(self.get_transition(name), self.get_state(entity), entity, user)

    def _check_one(
        self, transition: Transition, state: Any, entity: Any, user: Any
    ) -> TransitionCheck:
        try:
            self._check(transition, state, entity, user)
        except GuardFailed as exc:
            return TransitionCheck(transition, False, exc.explanation or str(exc))
        except (InvalidTransition, TransitionNotPermitted) as exc:
            return TransitionCheck(transition, False, str(exc))
        return TransitionCheck(transition, True, None)

    def available_transitions(self, entity: Any, user: Any = None) -> list[Transition]:
        """The transitions that may run now: right source, permission held, guards pass."""
        return [c.transition for c in self.check_transitions(entity, user) if c.allowed]

    # -- applying ------------------------------------------------------------------------

    def trigger(
        self,
        entity: Any,
        name: str,
        *,
        user: Any = None,
        reason: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """Run transition ``name`` on ``entity`` and return the new state.

        Raises :class:`InvalidTransition` (unknown name, wrong source, or the row moved
        meanwhile), :class:`TransitionNotPermitted` or :class:`GuardFailed`, and
        :class:`ValidationError` for a ``reason`` that is not storable text of at most
        :data:`REASON_MAX_LENGTH` characters or ``metadata`` that is not a dict (on a saved
        model, also for metadata that is not JSON: datetimes are stored as ISO text); nothing
        is written then.
        """
        if type(reason) is not str or reason:  # "" (the default) needs no check
            check_text("reason", reason, max_length=REASON_MAX_LENGTH, owner=name)
        if metadata is not None and not isinstance(metadata, dict):
            raise ValidationError(
                f"{name}: metadata must be a dict, not {type(metadata).__name__}",
                field="metadata",
                value=metadata,
            )
        state = getattr(entity, self.state_field)
        try:
            transition: Transition | None = self._move[(name, state)]
        except (KeyError, TypeError):  # unknown name, wrong source, unhashable state
            transition = None
        kind = type(entity)
        is_model = self._is_model.get(kind)
        if is_model is None:
            is_model = self._is_model[kind] = _is_django_model(kind)
        if is_model and not entity._state.adding:
            target = self._trigger_model(entity, name, transition, state, user, reason, metadata)
        elif otel_enabled():
            with span(
                "state_machine.trigger",
                machine=self.name,
                transition=name,
                model=entity._meta.label_lower if is_model else kind.__qualname__,
            ):
                target = self._trigger_in_memory(entity, name, transition, state, user)
        else:
            target = self._trigger_in_memory(entity, name, transition, state, user)
        if self._event_bus is not None:
            self._event_bus.emit(
                f"{kind.__name__.lower()}.{name}",
                {"entity": entity, "from_state": state, "to_state": target, "user": user},
            )
        return target

    def set_event_bus(self, bus: EventBus) -> None:
        """Also emit ``<class name, lower case>.<transition>`` on ``bus`` after each successful
        trigger, for any entity, with ``{"entity", "from_state", "to_state", "user"}``.

        dmr-toolkit 0.1.0's wiring, kept for code written against it. Saved models emit their
        audited event on the default bus after commit in any case; this adds the published
        event, emitted at once (or at the commit of an enclosing ``UnitOfWork``).
        """
        self._event_bus = bus

    def _trigger_in_memory(
        self, entity: Any, name: str, transition: Transition | None, state: Any, user: Any
    ) -> Any:
        """Plain object or unsaved instance: check, then set the attribute (the hot path)."""
        if transition is None:
            raise self._not_allowed(name, state)
        _check_permission_and_guards(transition, entity, user)
        if self.protected:
            from toolkit.patterns.state_persistence import machine_writes

            with machine_writes():
                setattr(entity, self.state_field, transition.target)
        else:
            setattr(entity, self.state_field, transition.target)
        return transition.target

    def _trigger_model(
        self,
        entity: Any,
        name: str,
        transition: Transition | None,
        state: Any,
        user: Any,
        reason: str,
        metadata: dict[str, Any] | None,
    ) -> Any:
        with span(
            "state_machine.trigger",
            machine=self.name,
            transition=name,
            model=entity._meta.label_lower,
            object_id=str(entity.pk),
        ):
            if transition is None:
                raise self._not_allowed(name, state)
            from toolkit.patterns.state_persistence import apply_to_model

            decided = transition
            apply_to_model(
                self,
                decided,
                entity,
                state,
                user,
                reason,
                metadata or {},
                # Permission and guards run inside the transaction, so what they read and
                # the UPDATE belong to the same unit.
                check=lambda: self._check(decided, state, entity, user),
            )
        return transition.target

    def _not_allowed(self, name: str, state: Any) -> InvalidTransition:
        """The error for a name that is unknown or not allowed from ``state``."""
        if name not in self._by_name:
            try:
                self.get_transition(name)
            except InvalidTransition as exc:
                return exc
        return self._wrong_source(name, state)

    async def atrigger(
        self,
        entity: Any,
        name: str,
        *,
        user: Any = None,
        reason: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """Async :meth:`trigger` (the transaction runs on Django's thread-sensitive thread)."""
        from asgiref.sync import sync_to_async

        return await sync_to_async(self.trigger, thread_sensitive=True)(
            entity, name, user=user, reason=reason, metadata=metadata
        )

    def audit_enabled(self) -> bool:
        """``Meta.audit`` if set, else the ``TOOLKIT["patterns"]["audit"]`` setting."""
        if self.audit is not None:
            return bool(self.audit)
        from toolkit.conf import toolkit_settings

        return bool(toolkit_settings.patterns["audit"])

    # -- diagrams ------------------------------------------------------------------------

    @property
    def initial_state(self) -> str:
        """The first of ``Meta.states``."""
        return self.states[0]

    def diagram(self) -> str:
        """A Mermaid ``stateDiagram-v2`` of the machine."""
        return render_mermaid(self.states, self.transitions)

    def to_dot(self, *, current: str | None = None, path: Iterable[Any] = ()) -> str:
        """Graphviz DOT text: guard names on the edges, ``current`` state filled, and the
        edges of ``path`` (transition names or ``(source, target)`` pairs) drawn bold."""
        return render_dot(self.name, self.states, self.transitions, current=current, path=path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self.transitions)} transitions>"


class _ClassBodyConfig:
    """The machine's own class attributes, read like a ``Meta`` (only those set in its body)."""

    def __init__(self, cls: type[Any]) -> None:
        self._body = cls.__dict__

    def __getattr__(self, key: str) -> Any:
        try:
            return self._body[key]
        except KeyError:
            raise AttributeError(key) from None


def _check_state_field(machine: str, model: type[Any], field: str) -> None:
    """``ImproperlyConfigured`` naming the field and listing the model's fields, early."""
    names = sorted(f.name for f in model._meta.concrete_fields)
    if field not in names:
        choices = ", ".join(repr(n) for n in names)
        raise ImproperlyConfigured(
            f"{machine}: state_field {field!r} is not a field of {model._meta.label}; "
            f"fields are: {choices}"
        )


def _is_django_model(kind: type[Any]) -> bool:
    # A model class exists only once django.db.models was imported; looking it up in
    # sys.modules keeps the machine usable (on plain objects) where Django is not installed.
    models = sys.modules.get("django.db.models")
    return models is not None and issubclass(kind, models.Model)
