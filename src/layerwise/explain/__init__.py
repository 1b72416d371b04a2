"""See inside a small dense network: every number of one forward and backward pass, and a drawing.

    >>> from layerwise.explain import explain
    >>> trace = explain("docs/seed0-network.yaml", "1,2", target=0, lr=0.9)  # doctest: +SKIP

The numbers come from `engine.py`, the textbook formulas in NumPy float64 (checked against torch
autograd in tests/test_explain_autograd.py). NumPy and matplotlib are imported on first use so that
`import layerwise` stays fast.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

__all__ = ["explain", "draw", "load_network"]


def explain(
    net, input=None, target=None, lr: float = 0.1, loss: str | None = None, decimals: int | None = None,
    row: int | None = None, data: str | None = None,
):
    """Work one example through `net`; see `layerwise.explain.api.explain`. Returns a Trace."""
    from .api import explain as run

    return run(net, input, target=target, lr=lr, loss=loss, decimals=decimals, row=row, data=data)


def draw(net, output_path, max_neurons: int = 16, values: bool | None = None):
    """Draw `net` (file, run directory, dict or DenseNet) to an image; see `drawing.draw_network`.
    A config or run directory with conv/pool layers is drawn as labelled blocks instead."""
    from .drawing import draw_blocks, draw_network
    from .netfile import beyond_dense, load_network as load

    if beyond_dense(net):
        from ..errors import LayerwiseError
        from ..summary import summarise_network

        if not isinstance(net, (str, Path)):
            raise LayerwiseError("draw: give a network with conv/pool layers as its config file or run directory")

        _, rows, total = summarise_network(net)
        return draw_blocks(rows, output_path, f"{net}: {len(rows)} layers, {total:,} parameters")
    return draw_network(load(net), output_path, max_neurons=max_neurons, values=values)


def load_network(net):
    """A DenseNet from a YAML file, run directory, dict or DenseNet."""
    from .netfile import load_network as load

    return load(net)


class _CallablePackage(types.ModuleType):
    """`layerwise.explain(...)` must run explain() even once this package has been imported: the
    import system then sets the attribute `layerwise.explain` to the package, hiding the function
    that `layerwise.__init__` re-exports under the same name. So the package itself is callable."""

    def __call__(self, *args, **kwargs):
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
