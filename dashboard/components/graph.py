"""State machine graph → Graphviz DOT: Parallel/Map as clusters, Catch edges dashed red, heat colours.

Node ids in the DOT text are synthetic (`n<shape digest>_0`, `_1`, ...): names from AWS only ever appear
inside quoted, escaped labels, so no state name can break out of its label or inject DOT attributes.

The ids also name the drawn SVG groups (their `<title>`): the browser's renderer redraws a new graph in
place and reuses the SVG elements of every node whose id it already drew, keeping the element's tag (a
`<path>` stays a `<path>`) while copying the new shape's attributes. Ids shared by two graphs of
different shapes (`n9` a Task box in one, the End circle in the next) would leave that node undrawn, so
the digest of each node's id and shape is part of every id: the same graph keeps its ids from one
drawing to the next, another graph never reuses them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lake.asl import END, START, Edge, Graph, State

LABEL_CHARS = 40
_EDGE_STYLE = {
    "next": 'color="#57606a"',
    "choice": 'color="#57606a"',
    "default": 'color="#57606a", style=dotted',
    "catch": 'color="#d1242f", fontcolor="#d1242f", style=dashed',
    "start": 'color="#8c959f"',
    "branch_start": 'color="#8c959f", style=dashed, arrowhead=empty',
    "end": 'color="#8c959f"',
}
_SHAPE = {"Choice": "diamond", "Succeed": "box", "Fail": "box", "Pass": "box", "Wait": "box"}
_COLD, _MID, _HOT = (232, 245, 233), (255, 236, 153), (229, 57, 53)
PATH_COLOUR = "#1f6feb"
FAIL_COLOUR = "#d1242f"


@dataclass
class Overlay:
    """What to draw on top of the definition: numbers per state id and per (src, dst) edge."""

    heat: Mapping[str, float] = field(default_factory=dict)  # state id → 0..1 (0 cold, 1 hot)
    node_notes: Mapping[str, str] = field(default_factory=dict)  # state id → extra label line
    edge_counts: Mapping[tuple[str, str], int] = field(default_factory=dict)
    path: Iterable[str] = ()  # state ids visited (an execution's path)
    failed: str | None = None  # state id where the execution failed


def escape(text: str) -> str:
    """Escape text for a double-quoted DOT string (backslash, quote, newlines)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def heat_colour(x: float) -> str:
    """0 → pale green, 0.5 → amber, 1 → red (values are clamped)."""
    x = min(max(float(x), 0.0), 1.0)
    lo, hi, t = (_COLD, _MID, x * 2) if x < 0.5 else (_MID, _HOT, (x - 0.5) * 2)
    r, g, b = (round(a + (c - a) * t) for a, c in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def shape_digest(graph: Graph) -> str:
    """8 hex digits naming what the drawn nodes look like: every state's id and type, and every end node."""
    shapes = [f"{st.id}\x1f{st.type}" for st in graph] + sorted(
        {e.dst for e in graph.edges if graph.is_virtual(e.dst)}
    )
    return hashlib.sha256("\x1e".join(shapes).encode()).hexdigest()[:8]


def to_dot(graph: Graph, overlay: Overlay | None = None, *, rankdir: str = "TB") -> str:
    """The graph as DOT text, ready for `st.graphviz_chart`."""
    return _Dot(graph, overlay or Overlay()).render(rankdir if rankdir in ("TB", "LR") else "TB")


class _Dot:
    """One DOT rendering: nodes get synthetic ids (n0, n1, ...), so AWS text never becomes DOT syntax."""

    def __init__(self, graph: Graph, ov: Overlay):
        self.graph, self.ov, self.path = graph, ov, set(ov.path)
        self.ids: dict[str, str] = {}
        self.out: list[str] = []
        self.kids: dict[tuple[str | None, int | None], list[State]] = {}
        for st in graph:
            self.kids.setdefault((st.parent, st.branch), []).append(st)
        self.prefix = f"n{shape_digest(graph)}_"

    def nid(self, node: str) -> str:
        return self.ids.setdefault(node, f"{self.prefix}{len(self.ids)}")

    def render(self, rankdir: str) -> str:
        self.out += [
            "digraph G {",
            f"  rankdir={rankdir};",
            '  graph [fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.4];',
            '  node [fontname="Helvetica", fontsize=10, shape=box, style="rounded,filled", fillcolor="#ffffff"];',
            '  edge [fontname="Helvetica", fontsize=9];',
            f'  {self.nid(START)} [label="Start", shape=circle, fillcolor="#8c959f", fontcolor="#ffffff", width=0.5];',
        ]
        self.scope(None, None, "  ")
        self.out += [line for e in self.graph.edges if (line := self.edge_line(e))]
        self.out.append("}")
        return "\n".join(self.out)

    def node_line(self, st: State, indent: str) -> str:
        ov = self.ov
        label = f"{_short(st.name)}\n{st.type}"
        if st.id in ov.node_notes:
            label += "\n" + ov.node_notes[st.id]
        attrs = [f'label="{escape(label)}"', f"shape={_SHAPE.get(st.type, 'box')}"]
        if st.type == "Choice":
            attrs.append('style="filled"')
        if st.id in ov.heat:
            attrs.append(f'fillcolor="{heat_colour(ov.heat[st.id])}"')
        if st.id == ov.failed:
            attrs += [f'color="{FAIL_COLOUR}"', "penwidth=3", 'fillcolor="#ffd7d5"']
        elif st.id in self.path:
            attrs += [f'color="{PATH_COLOUR}"', "penwidth=2.5"]
        return f"{indent}{self.nid(st.id)} [{', '.join(attrs)}];"

    def end_line(self, node: str, indent: str, top: bool) -> str:
        if top:
            return (
                f'{indent}{self.nid(node)} [label="End", shape=doublecircle, fillcolor="#8c959f", '
                'fontcolor="#ffffff", width=0.4];'
            )
        return f'{indent}{self.nid(node)} [label="", shape=point, width=0.12];'

    def scope(self, parent: str | None, branch: int | None, indent: str) -> None:
        for st in self.kids.get((parent, branch), []):
            if st.type in ("Parallel", "Map"):
                self.cluster(st, indent)
            else:
                self.out.append(self.node_line(st, indent))
        end = self.graph.end_node(parent, branch)
        if any(e.dst == end for e in self.graph.edges):
            self.out.append(self.end_line(end, indent, parent is None))

    def cluster(self, st: State, indent: str) -> None:
        out, nid = self.out, self.nid
        title = f"{st.type}: {_short(st.name)}" + (f" ({st.map_mode})" if st.map_mode else "")
        out.append(f"{indent}subgraph cluster_{nid(st.id)} {{")
        colour = FAIL_COLOUR if st.id == self.ov.failed else PATH_COLOUR if st.id in self.path else "#8c959f"
        out.append(f'{indent}  label="{escape(title)}"; style="rounded,dashed"; color="{colour}";')
        out.append(self.node_line(st, indent + "  "))
        for b in range(st.branch_count):
            if st.type == "Parallel" and st.branch_count > 1:
                out.append(f"{indent}  subgraph cluster_{nid(st.id)}_b{b} {{")
                out.append(f'{indent}    label="branch {b + 1}"; style="dotted"; color="#afb8c1";')
                self.scope(st.id, b, indent + "    ")
                out.append(f"{indent}  }}")
            else:
                self.scope(st.id, b, indent + "  ")
        out.append(f"{indent}}}")

    def edge_line(self, e: Edge) -> str | None:
        ids, path = self.ids, self.path
        if e.src not in ids or e.dst not in ids:
            return None
        label = _short(e.label or "", 30)
        count = self.ov.edge_counts.get((e.src, e.dst))
        if count:  # shorten the condition, never the count after it
            label = f"{label} ({count:,})" if label else f"{count:,}"
        attrs = [_EDGE_STYLE.get(e.kind, "")]
        if label:
            attrs.append(f'label="{escape(label)}"')
        on_path = (e.src in path or e.src == START) and (e.dst in path or e.dst.endswith(END))
        if path and on_path and e.kind != "branch_start":
            attrs.append("penwidth=2.5")
        if count:
            attrs.append(f"penwidth={min(1 + count**0.25 / 3, 4):.1f}")
        return f"  {ids[e.src]} -> {ids[e.dst]} [{', '.join(a for a in attrs if a)}];"


def resolve_state_id(graph: Graph, name: str, parent: str | None) -> str | None:
    """The graph id of a state run (its name and the name of its enclosing Map/Parallel)."""
    if not parent:
        st = graph.find(name)
        return st.id if st else None
    for p in graph.by_name(parent):
        st = graph.find(name, p.id)
        if st is not None:
            return st.id
    hits = graph.by_name(name)
    return hits[0].id if hits else None
