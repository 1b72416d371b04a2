"""The one way layerwise reads YAML (configs, run directories' config.yaml, network files, --set
values): PyYAML's safe loader, after a pass over the parser's events that bounds the document.

PyYAML's safe loader builds no Python objects it does not know, but it does expand aliases: nine
nested anchors of ten aliases each ("billion laughs") are 10^9 items to validate, dump or train
on, from a 500-byte file. Aliases are legitimate YAML (one block reused under two keys), so they
are allowed, but every node is counted as often as it will be seen after expansion: an alias
counts the whole subtree it repeats. A document over `MAX_NODES` expanded nodes, `MAX_DEPTH`
levels of nesting or `MAX_BYTES` of text is refused with one line before it is composed.

The counting pass reads the parser's event stream (libyaml's C parser when PyYAML has it, 0.4 s
per 200,000 nodes), so a refusal is quick; building the objects costs ~10 us a node, which is
what `MAX_NODES` bounds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import LayerwiseError

MAX_BYTES = 8 * 2**20  # a config with explicit weights for a 784-300-10 net is ~5 MB of text
MAX_NODES = 250_000  # expanded scalars + collections: ~1-3 s to build and validate on one core
MAX_DEPTH = 64  # configs nest 4 levels (network.weights[layer][row][col]); deeper is not a config

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TooBig(yaml.YAMLError):
    """A bound was crossed; carries the one-line reason."""


class YamlRefused(LayerwiseError):
    """A document past MAX_NODES, MAX_DEPTH or MAX_BYTES."""


def _measure(text: str) -> None:
    """Walk the events once, counting nodes as expanded (an alias weighs what its anchor holds)
    and nesting depth; raise _TooBig past a bound."""
    anchors: dict[str, int] = {}  # closed anchors -> expanded size of their node
    open_nodes: list[list] = []  # [anchor, size so far] per open sequence/mapping
    total = 0

    def close(anchor, size: int) -> None:
        if anchor is not None:
            anchors[anchor] = size
        if open_nodes:
            open_nodes[-1][1] += size

    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:  # still open: the node would contain itself
                if any(node[0] == event.anchor for node in open_nodes):
                    raise _TooBig(f"line {event.start_mark.line + 1}: an alias inside the node it names (a cycle)")
                continue  # undefined: the loader reports it
            size = anchors[event.anchor]
            total += size
            close(None, size)
        elif isinstance(event, yaml.ScalarEvent):
            total += 1
            close(event.anchor, 1)
        elif isinstance(event, yaml.CollectionStartEvent):
            total += 1
            open_nodes.append([event.anchor, 1])
            if len(open_nodes) > MAX_DEPTH:
                raise _TooBig(f"nested too deeply (more than {MAX_DEPTH} levels)")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_nodes.pop()
            close(anchor, size)
        if total > MAX_NODES:
            raise _TooBig(f"expands to more than {MAX_NODES:,} values (aliases counted as what they repeat)")


def parse(text: str, where: str) -> Any:
    """One YAML document from `text`; every failure is a LayerwiseError naming `where`."""
    if len(text) > MAX_BYTES:
        raise YamlRefused(f"{where}: YAML refused: {len(text):,} characters; at most {MAX_BYTES:,} are read")
    try:
        _measure(text)
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except _TooBig as exc:
        raise YamlRefused(f"{where}: YAML refused: {exc}") from None
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
            raise YamlRefused(f"{path}: YAML refused: {size:,} bytes; at most {MAX_BYTES:,} are read")
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
    except YamlRefused:
        raise
    except LayerwiseError:
        return text
