"""Text diagrams of a state machine: Mermaid ``stateDiagram-v2`` and graphviz DOT.

Pure functions of the states and transitions, used by ``StateMachine.diagram()`` and
``StateMachine.to_dot()``. Render DOT with ``graphviz-pure -Tsvg`` (or ``dot``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.patterns.state_machine import Transition

__all__ = ["render_dot", "render_mermaid"]


def _mermaid_id(state: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in state)


def render_mermaid(states: Sequence[str], transitions: Sequence[Transition]) -> str:
    """``stateDiagram-v2`` text: the first state is initial, states without exits are final."""
    lines = ["stateDiagram-v2"]
    for state in states:
        ident = _mermaid_id(state)
        if ident != state:
            lines.append(f'    state "{state}" as {ident}')
    lines.append(f"    [*] --> {_mermaid_id(states[0])}")
    for t in transitions:
        for source in t.sources:
            lines.append(f"    {_mermaid_id(source)} --> {_mermaid_id(t.target)}: {t.name}")
    exits = {s for t in transitions for s in t.sources}
    for state in states:
        if state not in exits:
            lines.append(f"    {_mermaid_id(state)} --> [*]")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def _edges_on_path(path: Iterable[Any], transitions: Sequence[Transition]) -> set[tuple[str, str]]:
    by_name = {t.name: t for t in transitions}
    edges: set[tuple[str, str]] = set()
    for step in path:
        if isinstance(step, str):
            t = by_name.get(step)
            if t is not None:
                edges.update((s, t.target) for s in t.sources)
        else:
            source, target = step
            edges.add((str(source), str(target)))
    return edges


def render_dot(
    name: str,
    states: Sequence[str],
    transitions: Sequence[Transition],
    *,
    current: str | None = None,
    path: Iterable[Any] = (),
) -> str:
    """Graphviz ``digraph``: one node per state, one edge per (source, transition).

    Edge labels carry the transition name and its guards (``pay [has_items]``) and the
    permission when there is one; ``current`` is filled, edges on ``path`` are bold.
    """
    bold = _edges_on_path(path, transitions)
    lines = [
        f"digraph {_quote(name)} {{",
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    "__start__" [shape=point, label=""];',
        f"    {_quote('__start__')} -> {_quote(states[0])};",
    ]
    for state in states:
        attrs = ""
        if state == current:
            attrs = ' [style="rounded,filled,bold", fillcolor="#ffe08a"]'
        lines.append(f"    {_quote(state)}{attrs};")
    for t in transitions:
        label = t.name
        if t.guards:
            label += " [" + ", ".join(g.name for g in t.guards) + "]"
        if t.permission is not None:
            label += f"\nperm: {t.permission_name}"
        for source in t.sources:
            extra = ', penwidth=2.5, color="#1f6feb"' if (source, t.target) in bold else ""
            lines.append(
                f"    {_quote(source)} -> {_quote(t.target)} [label={_quote(label)}{extra}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"
