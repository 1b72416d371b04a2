"""`layerwise summary`: the network of a config or a run, without training it."""

from __future__ import annotations

from pathlib import Path

from .errors import LayerwiseError
from .model import build_model, parameter_rows, resolve_architecture


def summarise_network(target: str | Path) -> tuple[str, list[tuple[str, str, int]]]:
    """(print(model) text, [(layer, shape, parameter count)])."""
    target = Path(target)
    if target.is_dir():
        from .predictor import load

        if not (target / "model.json").is_file():
            raise LayerwiseError(f"{target}: not a run directory (no model.json); give a run directory or a config file")
        model = load(target).module
    elif target.is_file():
        model = build_model(_architecture_from_config(target), device="meta")  # shapes only, no memory
    else:
        raise LayerwiseError(f"{target}: no such config file or run directory")
    return str(model), parameter_rows(model)


def _architecture_from_config(path: Path):
    from .spec import RunConfig

    config = RunConfig.from_yaml(path)
    net = config.network
    if net.input_size is not None and net.output_size is not None:
        return resolve_architecture(net, net.input_size, net.output_size)
    # Sizes come from the data: read it (and fit preprocessing) the same way training would.
    from .training.prepare import load_training_data, prepare

    prepared = prepare(config, load_training_data(config))
    return prepared.arch
