"""The one way layerwise reads YAML (configs, run directories' config.yaml, network files, --set
values): PyYAML's safe loader with bounds that hold *while* the document is composed.

PyYAML's safe loader builds no Python objects it does not know, but it does expand aliases: nine
nested anchors of ten aliases each ("billion laughs") are 10^9 items to validate, dump or train
on, from a 500-byte file. Aliases are legitimate YAML (one block reused under two keys), so they
are allowed, but every node is counted as often as it will be seen after expansion: an alias
counts the whole subtree it repeats. A document over `MAX_NODES` expanded nodes, `MAX_DEPTH`
levels of nesting or `MAX_BYTES` of text is refused with one line before anything uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import LayerwiseError

MAX_BYTES = 64 * 2**20  # a config with explicit weights for a 784-512-10 net is ~5 MB of text
MAX_NODES = 2_000_000  # expanded scalars + collections; 2e6 floats validate in ~1 s
MAX_DEPTH = 64  # configs nest 4 levels (network.weights[layer][row][col]); deeper is not a config


class _TooBig(yaml.YAMLError):
    """A bound was crossed; carries the one-line reason."""


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts expanded nodes and nesting depth as it composes."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}  # id(node) -> expanded node count of its subtree

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)  # the anchored node itself, shared
            if id(node) not in self._sizes:  # its anchor is still open: the node would contain itself
                raise _TooBig(f"line {mark.line + 1}: an alias inside the node it names (a cycle)")
            self._add(self._sizes[id(node)])
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooBig(f"nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in _children(node))
        self._add(1)
        return node

    def _add(self, count: int) -> None:
        self._expanded += count
        if self._expanded > MAX_NODES:
            raise _TooBig(f"expands to more than {MAX_NODES:,} values (aliases counted as what they repeat)")


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def parse(text: str, where: str) -> Any:
    """One YAML document from `text`; every failure is a LayerwiseError naming `where`."""
    if len(text) > MAX_BYTES:
        raise LayerwiseError(f"{where}: {len(text):,} characters of YAML; at most {MAX_BYTES:,} are read")
    try:
        return yaml.load(text, Loader=BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooBig as exc:
        raise LayerwiseError(f"{where}: YAML refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
        raise LayerwiseError(f"{where}{line}: not valid YAML ({problem})") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise LayerwiseError(f"{where}: YAML value cannot be read ({str(exc).splitlines()[0]})") from None
    except RecursionError:  # only if the interpreter's stack is smaller than MAX_DEPTH frames need
        raise LayerwiseError(f"{where}: YAML nested too deeply to read") from None


def read(path: str | Path) -> Any:
    """Parse a YAML file: the size is checked before the text is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LayerwiseError(f"{path}: {size:,} bytes of YAML; at most {MAX_BYTES:,} are read")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LayerwiseError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise LayerwiseError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse(text, str(path))


def parse_value(text: str, where: str) -> Any:
    """A --set value: YAML when it parses (1e-3, [1, 2], true), else the text itself. Bounds still
    apply: a value that would expand past them is an error, not a string."""
    try:
        return parse(text, where)
    except LayerwiseError as exc:
        if "YAML refused" in str(exc):
            raise
        return text
