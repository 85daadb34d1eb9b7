"""Specification: small, composable predicates usable in memory and as ORM queries.

::

    class MinTotal(Specification):
        def __init__(self, amount: int) -> None:
            self.amount = amount

        def is_satisfied_by(self, entity) -> bool:
            return entity.total >= self.amount

        def to_query(self) -> Q:
            return Q(total__gte=self.amount)

    spec = MinTotal(100) & ~CancelledSpec()
    spec.is_satisfied_by(order)            # plain Python
    Order.objects.filter(spec.to_query())  # the same rule in SQL
    data = spec.to_dict()                  # JSON-safe
    Specification.from_dict(json.loads(json.dumps(data))) == spec

Serialisation needs nothing from the subclass: the arguments each specification was
constructed with are captured by ``Specification.__new__`` and every subclass is registered
by its qualified name (``module.QualName``) when it is defined. ``from_dict`` rebuilds a
specification by calling the class again with the same arguments. Arguments must be JSON
values or other specifications.
"""

from __future__ import annotations

import inspect
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.core.exceptions import SpecificationError

if TYPE_CHECKING:
    from django.db.models import Q

__all__ = [
    "AndSpecification",
    "NotSpecification",
    "OrSpecification",
    "Specification",
    "known_specifications",
]

_registry: dict[str, type[Specification]] = {}
_registry_lock = threading.Lock()

#: Marks a nested specification among the arguments of another one.
SPEC_MARKER = "$spec"
_KEYS = ("spec", "args", "kwargs")


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def known_specifications() -> list[str]:
    """Every registered specification name, sorted."""
    return sorted(_registry)


class Specification(ABC):
    """A business rule: ``is_satisfied_by`` in memory, ``to_query`` as a Django ``Q``.

    Combine with ``&``, ``|`` and ``~``. ``to_dict`` / ``from_dict`` round-trip through JSON
    with no extra code in the subclass. Set ``spec_name`` to give a class a stable name
    that survives a rename or move (the default is ``module.QualName``).
    """

    spec_name: ClassVar[str]
    _spec_args: tuple[tuple[Any, ...], dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "spec_name" not in cls.__dict__:
            cls.spec_name = f"{cls.__module__}.{cls.__qualname__}"
        with _registry_lock:
            current = _registry.get(cls.spec_name)
            # The same qualified name is a redefinition (a reloaded module, a test): replace it.
            if current is not None and _qualified(current) != _qualified(cls):
                raise TypeError(
                    f"spec_name {cls.spec_name!r} of {_qualified(cls)} is already used by "
                    f"{_qualified(current)}; give one of them another spec_name"
                )
            _registry[cls.spec_name] = cls

    def __new__(cls, *args: Any, **kwargs: Any) -> Specification:
        # Capturing the constructor arguments here is what lets to_dict() work for any
        # subclass without it overriding anything.
        instance = super().__new__(cls)
        instance._spec_args = (args, dict(kwargs))
        return instance

    @abstractmethod
    def is_satisfied_by(self, entity: Any) -> bool:
        """Return True when ``entity`` satisfies the rule."""

    def to_query(self) -> Q:
        """Return the rule as a ``Q`` object; specifications used in queries override it."""
        raise SpecificationError(
            f"{type(self).__name__} defines no to_query(); it can only be checked in memory "
            "with is_satisfied_by()",
            data=self.spec_name,
        )

    def __and__(self, other: Specification) -> Specification:
        return AndSpecification(self, _check_operand(other, "&"))

    def __or__(self, other: Specification) -> Specification:
        return OrSpecification(self, _check_operand(other, "|"))

    def __invert__(self) -> Specification:
        return NotSpecification(self)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"spec": name, "args": [...], "kwargs": {...}}``, a JSON-safe dict."""
        args, kwargs = self._spec_args
        where = type(self).__name__
        return {
            "spec": self.spec_name,
            "args": [_encode(value, f"{where} argument {i}") for i, value in enumerate(args)],
            "kwargs": {
                name: _encode(value, f"{where} argument {name!r}") for name, value in kwargs.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Specification:
        """Rebuild a specification from :meth:`to_dict` output.

        dmr-toolkit 0.1.0's format (``{"type": ..., "kwargs": ...}``, ``left`` / ``right`` /
        ``operand`` for composites) is read too; :meth:`to_dict` writes this module's.

        Raises ``SpecificationError`` naming the problem (and listing the known names for an
        unknown one) when ``data`` is malformed.
        """
        return _decode_spec(data, path="specification")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Specification):
            return NotImplemented
        return type(self) is type(other) and self._spec_args == other._spec_args

    def __hash__(self) -> int:
        return hash((type(self), repr(self._spec_args)))

    def __repr__(self) -> str:
        args, kwargs = self._spec_args
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return f"{type(self).__name__}({', '.join(parts)})"


class AndSpecification(Specification):
    """Satisfied when every part is; ``a & b & c`` is one flat ``AndSpecification``."""

    spec_name = "and"

    def __new__(cls, *specs: Specification) -> AndSpecification:
        flat = _flatten(cls, specs)
        instance = super().__new__(cls, *flat)
        return instance  # type: ignore[return-value]

    def __init__(self, *specs: Specification) -> None:
        self.specs = _flatten(type(self), specs)

    def is_satisfied_by(self, entity: Any) -> bool:
        return all(spec.is_satisfied_by(entity) for spec in self.specs)

    def to_query(self) -> Q:
        query = self.specs[0].to_query()
        for spec in self.specs[1:]:
            query &= spec.to_query()
        return query

    def __repr__(self) -> str:
        return "(" + " & ".join(repr(s) for s in self.specs) + ")"


class OrSpecification(Specification):
    """Satisfied when any part is; ``a | b | c`` is one flat ``OrSpecification``."""

    spec_name = "or"

    def __new__(cls, *specs: Specification) -> OrSpecification:
        instance = super().__new__(cls, *_flatten(cls, specs))
        return instance  # type: ignore[return-value]

    def __init__(self, *specs: Specification) -> None:
        self.specs = _flatten(type(self), specs)

    def is_satisfied_by(self, entity: Any) -> bool:
        return any(spec.is_satisfied_by(entity) for spec in self.specs)

    def to_query(self) -> Q:
        query = self.specs[0].to_query()
        for spec in self.specs[1:]:
            query |= spec.to_query()
        return query

    def __repr__(self) -> str:
        return "(" + " | ".join(repr(s) for s in self.specs) + ")"


class NotSpecification(Specification):
    """Satisfied when its part is not."""

    spec_name = "not"

    def __init__(self, spec: Specification) -> None:
        self.spec = _check_operand(spec, "~")

    def is_satisfied_by(self, entity: Any) -> bool:
        return not self.spec.is_satisfied_by(entity)

    def to_query(self) -> Q:
        return ~self.spec.to_query()

    def __repr__(self) -> str:
        return f"~{self.spec!r}"


def _check_operand(value: Any, operator: str) -> Specification:
    if not isinstance(value, Specification):
        raise TypeError(f"Cannot combine a specification with {value!r} using {operator!r}")
    return value


def _flatten(cls: type[Specification], specs: tuple[Any, ...]) -> tuple[Specification, ...]:
    if len(specs) < 2:
        raise TypeError(f"{cls.__name__} needs at least two specifications, got {len(specs)}")
    flat: list[Specification] = []
    for spec in specs:
        _check_operand(spec, cls.spec_name)
        flat.extend(spec.specs if type(spec) is cls else (spec,))  # type: ignore[attr-defined]
    return tuple(flat)


def _encode(value: Any, where: str) -> Any:
    if isinstance(value, Specification):
        return {SPEC_MARKER: value.to_dict()}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_encode(item, where) for item in value]
    if isinstance(value, dict):
        if SPEC_MARKER in value:
            raise SpecificationError(
                f"{where}: a dict argument cannot use the reserved key {SPEC_MARKER!r}",
                data=value,
            )
        if not all(isinstance(key, str) for key in value):
            raise SpecificationError(f"{where}: dict keys must be strings", data=value)
        return {key: _encode(item, where) for key, item in value.items()}
    raise SpecificationError(
        f"{where} is {value!r} ({type(value).__name__}), which is not JSON-serialisable; "
        "use JSON values (str, int, float, bool, None, list, dict) or specifications",
        data=value,
    )


def _decode(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        if SPEC_MARKER in value:
            return _decode_spec(value[SPEC_MARKER], path)
        return {key: _decode(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item, f"{path}[{i}]") for i, item in enumerate(value)]
    return value


def _lookup(name: Any, data: Any, path: str) -> type[Specification]:
    known = ", ".join(repr(n) for n in known_specifications())
    if not isinstance(name, str):
        raise SpecificationError(
            f"{path}: 'spec' must be a specification name, not {name!r}; known: {known}",
            data=data,
        )
    cls = _registry.get(name)
    if cls is None:
        # A bare class name is accepted when exactly one registered class has it.
        matches = [c for c in _registry.values() if c.__name__ == name]
        if len(matches) == 1:
            return matches[0]
        raise SpecificationError(
            f"{path}: unknown specification {name!r}; known: {known}", data=data
        )
    return cls


#: The operands of dmr-toolkit 0.1.0's composite nodes, by node type.
_PUBLISHED_OPERANDS = {"and": ("left", "right"), "or": ("left", "right"), "not": ("operand",)}


def _from_published(data: Mapping[str, Any], path: str) -> dict[str, Any]:
    """dmr-toolkit 0.1.0's format (``{"type": "pkg.Spec", "kwargs": {...}}``, composites
    ``{"type": "and", "left": ..., "right": ...}`` / ``{"type": "not", "operand": ...}``)
    rewritten as this module's, so payloads stored by that package keep loading."""
    kind = data["type"]
    operands = _PUBLISHED_OPERANDS.get(kind) if isinstance(kind, str) else None
    if operands is None:
        return {"spec": kind, "kwargs": data.get("kwargs", {})}
    missing = [key for key in operands if key not in data]
    if missing:
        raise SpecificationError(
            f"{path}: a {kind!r} node needs {', '.join(repr(k) for k in operands)}; "
            f"missing {', '.join(repr(k) for k in missing)}",
            data=data,
        )
    args = []
    for key in operands:
        operand = data[key]
        if isinstance(operand, Mapping) and "type" in operand and "spec" not in operand:
            operand = _from_published(operand, f"{path}.{key}")
        args.append({SPEC_MARKER: operand})
    return {"spec": kind, "args": args}


def _decode_spec(data: Any, path: str) -> Specification:
    if not isinstance(data, Mapping):
        raise SpecificationError(
            f"{path}: expected a dict with keys 'spec', 'args', 'kwargs', not {data!r}",
            data=data,
        )
    if "type" in data and "spec" not in data:
        data = _from_published(data, path)
    unexpected = sorted(set(data) - set(_KEYS))
    if unexpected:
        raise SpecificationError(
            f"{path}: unexpected key(s) {', '.join(repr(k) for k in unexpected)}; "
            "valid keys are: 'args', 'kwargs', 'spec'",
            data=data,
        )
    if "spec" not in data:
        raise SpecificationError(
            f"{path}: missing the 'spec' key (the specification name)", data=data
        )
    cls = _lookup(data["spec"], data, path)
    raw_args = data.get("args", [])
    raw_kwargs = data.get("kwargs", {})
    if not isinstance(raw_args, list):
        raise SpecificationError(f"{path}: 'args' must be a list, not {raw_args!r}", data=data)
    if not isinstance(raw_kwargs, dict) or not all(isinstance(k, str) for k in raw_kwargs):
        raise SpecificationError(
            f"{path}: 'kwargs' must be a dict with string keys, not {raw_kwargs!r}", data=data
        )
    where = f"{path} ({cls.__name__})"
    args = [_decode(value, f"{where}.args[{i}]") for i, value in enumerate(raw_args)]
    kwargs = {key: _decode(value, f"{where}.kwargs.{key}") for key, value in raw_kwargs.items()}
    signature = _constructor_signature(cls)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise SpecificationError(
            f"{where}: arguments do not match {cls.__name__}{signature}: {exc}", data=data
        ) from exc
    try:
        return cls(*args, **kwargs)
    except Exception as exc:
        raise SpecificationError(
            f"{where}: {cls.__name__}{signature} rejected the arguments: "
            f"{type(exc).__name__}: {exc}",
            data=data,
        ) from exc


def _constructor_signature(cls: type[Specification]) -> inspect.Signature:
    """The signature callers use to build ``cls`` (its ``__init__`` without ``self``)."""
    init = cls.__init__
    if init is object.__init__:
        return inspect.Signature()
    signature = inspect.signature(init)
    return signature.replace(
        parameters=list(signature.parameters.values())[1:],
        return_annotation=inspect.Signature.empty,
    )
