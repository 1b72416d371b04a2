"""Cross-field checks of a run's settings, in one place: the rules that tie one setting to another
(loss to task, copies trained at once to what they can share, the ways of training to each other).

Each check says what is wrong in one line (a LayerwiseError) and names the settings involved. The
checks that need the data (the task, when `auto`) take the facts they need as arguments.
"""

from __future__ import annotations

from typing import Optional

from .errors import LayerwiseError

# task -> the loss used when `loss: auto`
DEFAULT_LOSS = {"multiclass": "cross_entropy", "binary": "bce", "regression": "mse"}
_LOSSES_FOR_TASK = {"multiclass": ("cross_entropy",), "binary": ("bce",),
                    "regression": ("mse", "l1", "huber")}


def resolve_loss(task: str, loss: str) -> str:
    """The loss for this task: `auto` resolved, anything else checked against the task."""
    if loss == "auto":
        return DEFAULT_LOSS[task]
    if loss not in _LOSSES_FOR_TASK[task]:
        raise LayerwiseError(f"loss '{loss}' does not fit a {task} task; use one of {', '.join(_LOSSES_FOR_TASK[task])}")
    return loss


def check_repeatable(config, what: str = "--repeat") -> None:
    """Copies trained at once (--repeat, training.ensemble) share one step: nothing may couple them."""
    net, spec = config.network, config.training
    kinds = net.layer_kinds()
    reasons = [("dropout" in kinds, "dropout"), ("batch_norm" in kinds, "batch_norm"),
               (spec.grad_clip is not None, "grad_clip (a global norm couples the copies)"),
               (spec.schedule == "plateau", "the plateau schedule"), (spec.class_weights is not None, "class_weights"),
               (spec.on_nan != "stop", "on_nan skip-batch")]
    for found, reason in reasons:
        if found:
            raise LayerwiseError(f"{what}: {reason} is not supported when training copies at once")


def check_training_modes(repeat: int, folds: Optional[int], nproc_per_node: Optional[int],
                         ensemble: Optional[int]) -> None:
    """--repeat, --folds, --nproc-per-node and --ensemble: which may go together."""
    if ensemble is not None and ensemble > 1 and (repeat > 1 or nproc_per_node is not None):
        raise LayerwiseError("training.ensemble (--ensemble) cannot be combined with "
                             + ("--repeat" if repeat > 1 else "--nproc-per-node"))
    if folds is not None:
        if repeat > 1:
            raise LayerwiseError("--folds and --repeat cannot be combined")
        if nproc_per_node is not None:
            raise LayerwiseError("--folds and --nproc-per-node cannot be combined")


def check_data_sizes(spec, input_size: int, output_size: int) -> None:
    """Sizes the data decides: at least one input, and explicit network sizes must agree with it."""
    if input_size < 1:
        raise LayerwiseError(f"the data has {input_size} feature columns; a network needs at least 1 input")
    for name, given, found in (("input_size", spec.input_size, input_size),
                               ("output_size", spec.output_size, output_size)):
        if given is not None and given != found:
            raise LayerwiseError(f"network.{name} is {given} but the data needs {found}")


def resolved_settings(config, task: str, loss: str, arch, has_val: bool) -> dict:
    """The config as this run uses it (what config.yaml records): `auto` task and loss, the
    sizes from the data and the monitor filled in, so the file retrains the same run as given."""
    from .training.callbacks import resolve_monitor

    resolved = config.to_dict()
    resolved["task"], resolved["loss"] = task, loss
    resolved["network"]["input_size"] = arch.input_size
    resolved["network"]["output_size"] = arch.output_size
    resolved["network"]["flatten"] = arch.flatten
    resolved["training"]["monitor"] = resolve_monitor(config.training, task, has_val)
    return resolved
