"""`layerwise summary`: the network of a config or a run, without training it.

Like Keras' `model.summary()`: every layer with the shape it outputs (per sample, without the
batch) and its parameter count. Shapes come from one forward pass on torch's "meta" device, which
computes shapes without allocating or computing anything, so a config with a billion weights is
summarised in a blink.
"""

from __future__ import annotations

from pathlib import Path

from .errors import LayerwiseError
from .model import build_model, resolve_architecture


def summarise_network(target: str | Path) -> tuple[str, list[tuple[str, str, str, int]], int]:
    """(print(model) text, [(layer, type, output shape, parameter count)], total parameters)."""
    target = Path(target)
    if target.is_dir():
        from .predictor import load

        if not (target / "model.json").is_file():
            from .artifacts import no_model_message

            config = target / "config.yaml"  # an unfinished run's network is in its config
            raise LayerwiseError(no_model_message(target) + (f" (layerwise summary {config} shows its network)"
                                 if config.is_file() else "; give a run directory or a config file"))
        predictor = load(target)
        model, input_size = predictor.module, predictor.architecture.input_size
    elif target.is_file():
        arch = _architecture_from_config(target)
        model, input_size = build_model(arch, device="meta"), arch.input_size  # shapes only, no memory
    else:
        raise LayerwiseError(f"{target}: no such config file or run directory")
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    members = getattr(model, "members", None)  # an ensemble (ensemble.py): K networks of one shape
    if members is not None:
        rows = [(f"members.*.{name}", kind, shape, count * len(members))
                for name, kind, shape, count in layer_rows(members[0], input_size)]
        return str(model), rows, total
    return str(model), layer_rows(model, input_size), total


def layer_rows(model, input_size: int) -> list[tuple[str, str, str, int]]:
    """One row per layer; a residual block's row is followed by its own layers ("res1.conv1").
    Moves `model` to the meta device (shapes only)."""
    import torch

    from .layers.modules import Residual

    shapes: dict[str, tuple[int, ...]] = {}
    shown = [(name, module) for name, module in model.named_children()]
    for name, module in list(shown):
        if isinstance(module, Residual):
            at = shown.index((name, module)) + 1
            shown[at:at] = [(f"{name}.{child}", m) for child, m in module.body.named_children()]
    hooks = [module.register_forward_hook(lambda m, i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
             for name, module in shown]
    try:
        with torch.no_grad():
            model.to("meta")(torch.empty(2, input_size, device="meta"))  # batch 2: batch norm needs > 1 row
    finally:
        for hook in hooks:
            hook.remove()
    return [(name, type(module).__name__, str(shapes[name]),
             sum(p.numel() for p in module.parameters() if p.requires_grad)) for name, module in shown]


def _architecture_from_config(path: Path):
    from .spec import RunConfig

    config = RunConfig.from_yaml(path)
    net = config.network
    if net.input_size is not None and net.output_size is not None:  # no data needed: resolve's shape checks only
        from .resolve import check_explicit_values

        arch = resolve_architecture(net, net.input_size, net.output_size)
        check_explicit_values(net, arch)
        return arch
    # Sizes come from the data: read it (and fit preprocessing) the same way training would.
    from .training.prepare import load_training_data, prepare

    prepared = prepare(config, load_training_data(config))
    return prepared.arch
