"""`explain(net, input, …) -> Trace`: load, check, run the two passes, record everything."""

from __future__ import annotations

from ..errors import LayerwiseError
from . import engine
from .inputs import check_input, choose_loss, encode_target
from .netfile import load_network
from .numbers import RESULT_PLACES, num
from .passes import backward_pass, forward_pass, output_probabilities
from .trace import Trace


def explain(
    net, input=None, target=None, lr: float = 0.1, loss: str | None = None, decimals: int | None = None,
    row: int | None = None, data: str | None = None,
) -> Trace:
    """Work one example through a small dense network, forward and (given a target) backward.

    net: a YAML weights file or run directory path, a dict in either form, or a DenseNet.
    input: the input, "1,2" or a list of numbers; for a run directory these are raw feature values
        and go through the run's preprocessing first.
    target: the wanted output ("0", a class index or name, or numbers); without it only the
        forward pass is worked.
    lr: the learning rate α of the one update W ← W − α ∂E/∂W.
    loss: mse | l1 | huber | ce | bce; default ce/bce for classification runs, else mse.
    decimals: round each activation to this many decimals before the next layer uses it, as a
        hand calculation does (seed 0 with decimals=2 gives 0.77539).
    row, data: instead of `input`, use row `row` (0-based) of the data source `data`, e.g.
        row=3, data="builtin:iris"; its label is the default target.

    >>> net = {"layers": [2, 3, 1], "activation": "sigmoid", "bias": False,
    ...        "weights": [[[0.8, 0.2], [0.4, 0.9], [0.3, 0.1]], [[0.3, 0.5, 0.9]]]}
    >>> round(float(explain(net, "1,2", target=0, lr=0.9).output[0]), 5)
    0.77572
    """
    network = load_network(net)
    x, row_target, input_notes = _network_input(network, input, row, data)
    if target is None and row_target is not None:
        target = row_target
        input_notes.append(f"target is the row's own label: {row_target}")
    if decimals is not None and (int(decimals) != decimals or not 0 <= decimals <= 12):
        raise LayerwiseError(f"decimals must be a whole number from 0 to 12; got {decimals}")
    trace = Trace(network, x, forward_pass(network, x, decimals), learning_rate=float(lr), decimals=decimals)
    trace.notes.extend(network.notes + input_notes)
    if decimals is not None:
        exact = forward_pass(network, x)[-1].a
        trace.notes.append(
            f"rounding: each hidden activation is rounded to {decimals} decimals before the next layer uses it,"
            f" as a hand calculation does (without rounding ŷ = {', '.join(num(v, RESULT_PLACES) for v in exact)});"
            " derivatives are evaluated at the sums Z"
        )
    scaling = _target_scaling(network)
    if scaling is not None:
        mean, std = scaling
        trace.notes.append("the run learned standardised targets (data.standardize_target): its output ŷ = "
                           + ", ".join(f"{num(o, RESULT_PLACES)} is {num(o, RESULT_PLACES)}×{num(s)} + {num(m)} = "
                                       f"{num(o * s + m, RESULT_PLACES)}" for o, m, s in zip(trace.output, mean, std))
                           + " in the target's own units, as predict answers")
    if target is None:
        trace.notes.append("no target given: forward pass only (give a target to see the backward pass)")
        return trace
    trace.loss = choose_loss(network, loss)
    smoothing = _label_smoothing(network)
    if smoothing and trace.loss == "ce":
        trace.notes.append(f"the run trained with label smoothing {num(smoothing)} (training.label_smoothing); "
                           "this pass works the plain cross-entropy of the textbook")
    trace.target, trace.target_label = encode_target(network, trace.loss, target)
    if scaling is not None:  # the loss the network trained on compares standardised values, not raw ones
        raw = trace.target
        trace.target = (raw - mean) / std
        trace.notes.append("target in the network's units: " + ", ".join(
            f"({num(r)} − {num(m)}) / {num(s)} = {num(t, RESULT_PLACES)}" for r, m, s, t in zip(raw, mean, std, trace.target)))
    trace.loss_value = engine.loss(trace.loss, trace.output, trace.target)
    trace.probabilities = output_probabilities(trace.loss, trace.output)
    trace.backward = backward_pass(network, trace.forward, trace.loss, trace.target, trace.learning_rate)
    return trace


def _network_input(network, input, row, data) -> tuple:
    """(x, the row's target or None, notes) from --input or from --input-row/--data."""
    if (input is None) == (row is None):
        raise LayerwiseError("give either an input (--input 1,2) or a data row (--input-row N --data SOURCE)")
    if row is not None:
        if not data:
            raise LayerwiseError("--input-row needs --data SOURCE, e.g. --data builtin:iris")
        from .rows import source_row

        x, label, note = source_row(network, data, int(row))
        return check_input(network, x), label, [note]
    if network.run_dir is not None:
        from .rows import run_input

        x, note = run_input(network, input)
        return check_input(network, x), None, [note]
    return check_input(network, input), None, []


def _target_scaling(network):
    """(mean, std) of a regression run's standardised targets (model.json target_scaling), or None:
    the network's outputs and the loss live in those units, the user's target in the table's."""
    if network.run_dir is None or network.task != "regression":
        return None
    import numpy as np

    from ..artifacts import read_model_card

    scaling = read_model_card(network.run_dir).get("target_scaling")
    return (np.asarray(scaling["mean"], dtype=float), np.asarray(scaling["std"], dtype=float)) if scaling else None


def _label_smoothing(network) -> float:
    """The run's training.label_smoothing (preset auto uses 0.1 for classification), or 0."""
    if network.run_dir is None:
        return 0.0
    from ..runs_table import read_config

    return float((read_config(network.run_dir).get("training") or {}).get("label_smoothing") or 0.0)
