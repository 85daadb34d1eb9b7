"""One set of input rules for everything the toolkit writes (pure Python, no Django).

The event store (every backend), the state machine and commands check their input here,
before any write, so a value is refused the same way whatever stores it:

* **text** (ids, names, user and correlation ids, reasons): a ``str`` of at most the column's
  length, without NUL (PostgreSQL refuses ``\\x00`` in text and ``jsonb``; SQLite and Redis
  would store it, so one backend would lose what another keeps) and without lone surrogates
  (``"\\ud800"`` cannot be encoded as UTF-8, so no backend can store it);
* **integers** (sequences, positions, limits): an ``int`` (not a ``bool``, not a numeric
  string) between the bounds the caller names; anything beyond a signed 64-bit integer is out
  of range, since that is what the databases' ``bigint`` columns hold;
* **JSON documents** (payloads, metadata, snapshot states): dicts, lists, strings, finite
  floats, 64-bit integers, booleans and None, nested at most :data:`MAX_DEPTH` deep, without
  cycles; strings as above; object keys must be strings (``{1: "a", "1": "b"}`` would become
  one key in JSON, silently losing a value, and ``{1: "a"}`` would come back as ``{"1": "a"}``).

Every refusal is a :class:`~toolkit.patterns.exceptions.ValidationError` whose ``field`` names
the argument or the path inside the document (``"payload.items.0.sku"``) and whose message
quotes the value and states the rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from toolkit.core.exceptions import ValidationError

#: The largest (and, negated, smallest) integer accepted: PostgreSQL's and SQLite's bigint.
MAX_INT = 2**63 - 1
#: How deep a JSON document may nest (deeper ones hit Python's recursion limit elsewhere).
MAX_DEPTH = 100

_SURROGATES = range(0xD800, 0xE000)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (NUL, lone surrogate), or None when it can."""
    if "\x00" in value:
        return "must not contain NUL ('\\x00')"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"must not contain the lone surrogate {value[exc.start]!r} (not valid UTF-8)"
    return None


def check_text(
    field: str,
    value: Any,
    *,
    max_length: int,
    allow_empty: bool = True,
    owner: str = "",
) -> str:
    """Return ``value`` when it is storable text of at most ``max_length`` characters.

    ``owner`` (e.g. the event type) prefixes the message when given.
    """
    # The hot path of appends (five to six names and ids per event): ASCII text is valid
    # UTF-8 (no lone surrogate), so only its length and NUL need checking.
    if (
        value.__class__ is str
        and value.isascii()
        and len(value) <= max_length
        and (allow_empty or value)
        and "\x00" not in value
    ):
        return str(value)
    prefix = f"{owner}: " if owner else ""
    if not isinstance(value, str):
        raise ValidationError(
            f"{prefix}{field} must be a string, not {type(value).__name__} {value!r}",
            field=field,
            value=value,
        )
    if not value and not allow_empty:
        raise ValidationError(
            f"{prefix}{field} must be a non-empty string", field=field, value=value
        )
    if len(value) > max_length:
        raise ValidationError(
            f"{prefix}{field} must be at most {max_length} characters, "
            f"not {len(value)} ({value[:40]!r}...)",
            field=field,
            value=value,
        )
    problem = text_problem(value)
    if problem:
        raise ValidationError(f"{prefix}{field} {problem}: {value!r}", field=field, value=value)
    return value


def check_int(
    field: str,
    value: Any,
    *,
    minimum: int = 0,
    maximum: int = MAX_INT,
    allow_none: bool = False,
) -> int | None:
    """Return ``value`` when it is an ``int`` in ``minimum..maximum`` (or None if allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        kind = "None or an integer" if allow_none else "an integer"
        raise ValidationError(
            f"{field} must be {kind}, not {type(value).__name__} {value!r}",
            field=field,
            value=value,
        )
    if not minimum <= value <= maximum:
        raise ValidationError(
            f"{field} must be between {minimum} and {maximum}, not {value!r}",
            field=field,
            value=value,
        )
    return value


def check_json(
    value: Any,
    *,
    what: str,
    owner: str = "",
    default: Callable[[Any], Any] | None = None,
) -> None:
    """Refuse ``value`` unless every backend can store it as JSON and give it back unchanged.

    ``what`` names the document (``"payload"``, ``"metadata"``, ``"state"``); ``field`` is
    the dotted path inside it (``"card.at"``), or ``what`` for the document itself; ``owner``
    (the event type, the transition) prefixes the message. ``default`` is the encoder's
    hook for other types (e.g. ``DjangoJSONEncoder().default``, which turns datetimes into
    ISO text): what it returns is checked in their place, and a ``TypeError`` from it refuses
    the value as not JSON-serialisable.
    """
    if value.__class__ is dict and _flat_plain(value):
        return
    prefix = f"{owner}: " if owner else ""

    def refuse(path: tuple[str, ...], rule: str, bad: Any) -> ValidationError:
        where = ".".join(path) or what
        return ValidationError(f"{prefix}{what} at {where!r} {rule}", field=where, value=bad)

    # Iterative walk of (value, path, depth, leaving); ``open_ids`` holds the containers on
    # the current path, so one list reached twice is fine but a cycle is refused.
    stack: list[tuple[Any, tuple[str, ...], int, bool]] = [(value, (), 0, False)]
    open_ids: set[int] = set()
    while stack:
        item, path, depth, leaving = stack.pop()
        if leaving:
            open_ids.discard(id(item))
            continue
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise refuse(path, f"{problem}: {item!r}", item)
        elif item is None or isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -MAX_INT <= item <= MAX_INT:
                digits = len(str(abs(item))) if abs(item).bit_length() < 10_000 else "10,000+"
                raise refuse(
                    path,
                    f"must be a 64-bit integer (at most ±{MAX_INT}), not a {digits}-digit one",
                    item,
                )
        elif isinstance(item, float):
            if item != item or item in (_INF, -_INF):
                raise refuse(path, f"must be a finite number, not {item!r}", item)
        elif isinstance(item, dict | list | tuple):
            if id(item) in open_ids:
                raise refuse(path, "refers back to itself (a circular reference)", item)
            if depth >= MAX_DEPTH:
                raise refuse(path, f"nests deeper than {MAX_DEPTH} levels", item)
            open_ids.add(id(item))
            stack.append((item, path, depth, True))
            if isinstance(item, dict):
                children = []
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise refuse(
                            path,
                            f"has the key {key!r} ({type(key).__name__}); keys must be "
                            f"strings (JSON would turn it into {str(key)!r})",
                            key,
                        )
                    problem = text_problem(key)
                    if problem:
                        raise refuse(path, f"has a key that {problem}: {key!r}", key)
                    children.append((child, (*path, key), depth + 1, False))
            else:
                children = [
                    (child, (*path, str(index)), depth + 1, False)
                    for index, child in enumerate(item)
                ]
            stack.extend(reversed(children))  # document order: the first bad value is named
        else:
            if default is not None:
                try:
                    replacement = default(item)
                except TypeError:
                    pass
                else:
                    stack.append((replacement, path, depth + 1, False))
                    continue
            where = ".".join(path) or what
            raise ValidationError(
                f"{prefix}{what} is not JSON-serialisable at {where!r}: "
                f"{item!r} ({type(item).__name__})",
                field=where,
                value=item,
            )


_INF = float("inf")


def _flat_plain(value: dict[Any, Any]) -> bool:
    """Whether ``value`` is a flat dict that :func:`check_json`'s walk accepts: ASCII string
    keys and values that are ASCII strings, 64-bit integers, finite floats, booleans or None
    (no NUL). The common payload (``{"by": 1}``) at a fraction of the walk's cost; False
    sends the document to the walk, which decides (and names what is wrong)."""
    for key, item in value.items():
        if key.__class__ is not str or not key.isascii() or "\x00" in key:
            return False
        kind = item.__class__
        if kind is str:
            if not item.isascii() or "\x00" in item:
                return False
        elif kind is int:
            if not -MAX_INT <= item <= MAX_INT:
                return False
        elif kind is float:
            if item != item or item in (_INF, -_INF):
                return False
        elif item is not None and kind is not bool:
            return False
    return True


# What the one-pass check of encoded_json() looks for in the encoder's output: a number of 19
# or more digits may be out of the 64-bit range; the nesting is counted over brackets outside
# strings.
_LONG_DIGITS = re.compile(r"\d{19}")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_decode = json.JSONDecoder().decode
#: Below this many characters of JSON the walk is cheaper than the passes' fixed cost.
_WALK_BELOW = 160


def encoded_json(
    value: dict[str, Any],
    encode: Callable[[Any], str],
    *,
    what: str,
    owner: str = "",
    given: Any = None,
) -> str:
    """``encode(value)``, refused by exactly the rules (and messages) of :func:`check_json`.

    The hot path of appends: instead of walking ``value`` in Python (about three times the
    cost of encoding it), check the encoder's output in C-speed passes: ``encode`` (strict,
    ``allow_nan=False``) refuses NaN, infinities, circular references and unknown types; the
    text has no escaped NUL, encodes to UTF-8 (no lone surrogate), has no run of 19 digits (a
    possible 64-bit overflow), nests at most :data:`MAX_DEPTH` levels, and decodes back to
    ``value`` (which a non-string key or a tuple does not). Short documents (under
    ``_WALK_BELOW`` characters), and any for which one of these does not hold,
    are walked by :func:`check_json` instead, on ``given`` (the value as the caller passed it,
    default ``value``), which raises its precise error: one set of rules either way.
    """
    subject = value if given is None else given
    try:
        text = encode(value)
    except (TypeError, ValueError) as exc:
        check_json(subject, what=what, owner=owner)
        prefix = f"{owner}: " if owner else ""
        raise ValidationError(
            f"{prefix}{what} is not JSON-serialisable: {exc}", field=what, value=value
        ) from exc
    if len(text) < _WALK_BELOW or not _plain(text, value):
        check_json(subject, what=what, owner=owner)
    return text


def _plain(text: str, value: Any) -> bool:
    """Whether the encoded ``text`` of ``value`` passes every rule of :func:`check_json`."""
    if "\\u0000" in text or _LONG_DIGITS.search(text):
        return False
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
    if text.count("{") + text.count("[") > MAX_DEPTH - 1:
        depth = deepest = 0
        for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
            depth += 1 if bracket in "{[" else -1
            deepest = max(deepest, depth)
        if deepest >= MAX_DEPTH:
            return False
    return bool(_decode(text) == value)


def decode_position_cursor(name: str, value: str | None) -> int | None:
    """Decode a stream cursor that is the global position of the stream's last event (the
    memory and Redis event stores' format); raise ValidationError naming ``name`` otherwise."""
    if value is None:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    raise ValidationError(
        f"{name}: {value!r} is not a stream cursor of this store (a position, e.g. '42')",
        field=name,
        value=value,
    )


__all__ = [
    "MAX_DEPTH",
    "MAX_INT",
    "check_int",
    "check_json",
    "check_text",
    "decode_position_cursor",
    "encoded_json",
    "text_problem",
]
