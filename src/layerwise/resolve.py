"""The resolve step: a run's config and what the data says -> the config as this run uses it.

Every rule that ties one setting to another, or a setting to the data, runs here, in this order:

  1. modes      how the run trains (--repeat, --folds, DDP processes, an ensemble, in memory,
                sample weights, resuming): which go together, and what each needs of the config
  2. loss       `loss: auto` from the task; an explicit loss checked against it
  3. preset     `preset: auto` fills in what the config leaves out (recipe.py), from the task, the
                training rows and the kind of data; copies trained at once default to no dropout
  4. copies     what copies trained at once (--repeat, training.ensemble) cannot share
  5. rows       DDP: the batch as trained must split evenly across the processes; --folds K
                needs at least K rows to split
  6. shapes     the preprocessing (fitted with the resolved data settings) gives the input shape;
                explicit network sizes must agree with the data, every layer's shape must fit, and
                explicit weights/biases must fit the layers
  7. weights    training.class_weights against the task and its classes

Rules inside one section that need nothing else (layers or hidden, nesterov needs sgd momentum, one
activation per hidden layer) are the schema's own validators in spec.py, so every reader of a
config (tune's search values, explain, summary) meets them when it parses the config.

Step 1 needs no data: a caller that has not read the data yet (the CLI, the DDP launcher) runs it
early through `check_modes`, so a bad combination stops before anything is read or started;
`resolve` runs it again (it is cheap and has no side effects). Each check raises one LayerwiseError
line naming the settings involved. The preset writes its choices into the config in place, so the
run's config.yaml (`resolved_settings`) retrains the same run from the file alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from .errors import LayerwiseError

# task -> the loss used when `loss: auto`
DEFAULT_LOSS = {"multiclass": "cross_entropy", "binary": "bce", "regression": "mse"}
_LOSSES_FOR_TASK = {"multiclass": ("cross_entropy",), "binary": ("bce",),
                    "regression": ("mse", "l1", "huber")}


@dataclass(frozen=True)
class Modes:
    """How the run trains, beside its config: what the command line or the caller asked for."""

    repeat: int = 1  # --repeat N: N copies trained at once, a run directory each
    folds: Optional[int] = None  # --folds K: k-fold cross-validation (in memory)
    processes: Optional[int] = None  # DDP world size (--nproc-per-node N or torchrun); None: one process
    launching: bool = False  # this process starts the DDP workers (--nproc-per-node), it does not train
    ensemble_flag: bool = False  # --ensemble was given on the command line (the messages name it)
    in_memory: bool = False  # layerwise.fit: nothing written (scikit-learn estimators, cv, tune)
    estimator: bool = False  # a scikit-learn estimator's fit: one network, trained step by step there
    chosen_rows: bool = False  # the caller picked the train/val/test rows (a fold of --folds)
    sample_weight: bool = False  # per-row loss weights were given
    resume_from: Optional[str] = None  # the run directory being resumed


@dataclass
class DataFacts:
    """What the data says, learned by `training.prepare` before resolve runs (never from the config)."""

    kind: str  # "table" | "array" | "image"
    task: str  # multiclass | binary | regression: the config's, or inferred from the targets
    n_outputs: int  # network outputs the encoded targets need
    classes: Optional[list]  # class labels in index order; None for regression
    train_targets: Any  # encoded targets of the training rows (class_weights: balanced)
    train_rows: int
    val_rows: int = 0  # rows split off for validation (the folds of --folds split train + val)
    # fits the preprocessing on the training rows with the resolved data settings (the preset may
    # choose its scaling), -> a Preprocessor; its n_features and sample_shape are the input facts
    fit_preprocessing: Optional[Callable[[Any], Any]] = None
    kept: Optional[tuple] = None  # (preprocessor, architecture) of an earlier fit, used as they are
    numbers: int = 0  # numeric columns of a table (values per row of an array): preset auto's embedding


@dataclass
class Resolved:
    """The run as it will train: the config (preset filled in), task, loss, input and network."""

    config: Any  # the RunConfig given, changed in place by the preset
    task: str
    loss: str
    preprocessor: Any  # data.preprocess.Preprocessor, fitted on the training rows
    arch: Any  # model.Architecture: every size known, every layer's shape checked
    class_weights: Any = None  # float32 (n_classes,) loss weights, or None


def resolve(config, facts: DataFacts, modes: Modes = Modes()) -> Resolved:
    """Run every check and derived choice, in the order the module doc gives; see there."""
    from .model import resolve_architecture
    from .recipe import apply_preset

    check_modes(config, modes)
    loss = resolve_loss(facts.task, config.loss)
    copies = _copies_name(config, modes)
    if facts.kept is None:
        if copies == "--repeat" and config.preset == "auto" and "dropout" not in config.network.model_fields_set:
            config.network.dropout = 0.0  # --repeat copies must match their single runs: no dropout masks
        apply_preset(config, facts.task, facts.train_rows, facts.kind, facts.numbers)
    if copies:
        check_repeatable(config, copies)
    if modes.processes:
        batch = config.training.batch_size
        check_ddp_batch(batch if batch < facts.train_rows else 0, modes.processes)
    if modes.folds is not None and facts.train_rows + facts.val_rows < modes.folds:
        raise LayerwiseError(f"--folds {modes.folds}: only {facts.train_rows + facts.val_rows} training rows to split")
    if facts.kept is not None:
        preprocessor, arch = facts.kept
    else:
        preprocessor = facts.fit_preprocessing(config.data)
        check_data_sizes(config.network, preprocessor.n_features, facts.n_outputs)
        arch = resolve_architecture(config.network, preprocessor.n_features, facts.n_outputs,
                                    preprocessor.sample_shape, preprocessor.numeric_features)
        check_explicit_values(config.network, arch)
    weights = class_weight_vector(config.training, facts.train_targets, facts.classes)
    return Resolved(config, facts.task, loss, preprocessor, arch, weights)


def _copies_name(config, modes: Modes) -> Optional[str]:
    """How copies trained at once are named in messages, or None when the run trains one network."""
    if modes.repeat > 1:
        return "--repeat"
    spec = config.training  # shared-weight ensembles (tabm) train one network, not copies
    return "training.ensemble" if spec.stacked_members() else None


def check_modes(config, modes: Modes) -> None:
    """Step 1: the ways of training that go together, and what each asks of the config (no data)."""
    check_training_modes(modes.repeat, modes.folds, modes.processes if modes.launching else None,
                         config.training.ensemble if modes.ensemble_flag else None)
    _check_ensemble(config, modes)
    if modes.folds is not None:
        if modes.folds < 2:
            raise LayerwiseError(f"--folds {modes.folds}: needs at least 2 folds")
        if config.data.val:
            raise LayerwiseError("--folds: the config names a validation source (data.val); "
                                 "folds split the training rows themselves, so leave data.val out")
    if modes.repeat > 1:
        if modes.launching:
            raise LayerwiseError("--nproc-per-node cannot be combined with --repeat: train the copies "
                                 "in one process, or one DDP run at a time")
        if modes.processes:
            raise LayerwiseError("--repeat cannot be combined with several processes (--nproc-per-node/torchrun)")
        if modes.sample_weight:
            raise LayerwiseError("--repeat: sample weights are for single runs")
        if config.training.log:  # the copies train as one stacked model: no viewer ever saw their epochs
            raise LayerwiseError(f"--repeat: training.log ({', '.join(config.training.log)}) records single runs; "
                                 "compare the copies with their comparison.csv or `layerwise runs --compare`")
    if modes.processes:
        if config.training.on_nan == "skip-batch":
            raise LayerwiseError("training.on_nan: skip-batch is not available with several processes "
                                 "(every rank would have to agree on each skipped batch); use stop")
        if config.preset == "plain" or "batch_size" in config.training.model_fields_set:
            check_ddp_batch(config.training.batch_size, modes.processes)  # else the preset picks it (step 5)


def _check_ensemble(config, modes: Modes) -> None:
    """training.ensemble K > 1: one run, one process, every row weighted alike, trained from the start."""
    if config.training.ensemble == 1:
        return
    if modes.repeat > 1:
        raise LayerwiseError("training.ensemble cannot be combined with --repeat")
    if modes.processes:
        raise LayerwiseError("training.ensemble cannot be combined with several processes (--nproc-per-node/torchrun)")
    if modes.estimator:
        raise LayerwiseError("training.ensemble: the scikit-learn estimators train one network; "
                             "use layerwise.fit or `layerwise train` for an ensemble")
    if modes.resume_from is not None:
        raise LayerwiseError(f"{modes.resume_from}: an ensemble (training.ensemble) keeps no checkpoints to resume; "
                             "train it again")
    if modes.folds is not None or modes.chosen_rows or (modes.in_memory and modes.sample_weight):
        raise LayerwiseError("training.ensemble: sample weights and --folds train one network; "
                             "use `layerwise train` or layerwise.fit without them for an ensemble")
    if modes.sample_weight:
        raise LayerwiseError("training.ensemble: sample weights are for single runs")
    if config.training.ensemble_kind == "bagging" and (config.data.val or config.data.val_split <= 0):
        raise LayerwiseError("training.ensemble_kind bagging: each member draws its own validation rows from "
                             "data.val_split; set data.val_split above 0 and leave data.val out")


def may_bag(config, modes: Modes) -> bool:
    """Whether preset auto may make this run a bagged ensemble (recipe.auto_members): the user set
    no ensemble, and one would pass every check an ensemble asked for must (one process, no
    --repeat/--folds/sample weights/resume, rows it splits itself, nothing that couples members);
    otherwise the run quietly stays one network."""
    if config.preset != "auto" or "ensemble" in config.training.model_fields_set:
        return False
    bagged = config.model_copy(deep=True)
    bagged.training.ensemble, bagged.training.ensemble_kind = 2, "bagging"
    try:
        _check_ensemble(bagged, modes)
        check_repeatable(bagged, "training.ensemble")
    except LayerwiseError:
        return False
    return True


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
    # an ensemble's members may each draw their own dropout masks (copies.stacked_module); --repeat
    # copies may not, as each must train exactly as its single run would
    reasons = [("dropout" in kinds and what == "--repeat", "dropout"), ("batch_norm" in kinds, "batch_norm"),
               (spec.grad_clip is not None, "grad_clip (a global norm couples the copies)"),
               (spec.schedule == "plateau", "the plateau schedule"), (spec.class_weights is not None, "class_weights"),
               (spec.on_nan != "stop", "on_nan skip-batch")]
    for found, reason in reasons:
        if found:
            raise LayerwiseError(f"{what}: {reason} is not supported when training copies at once")


def check_training_modes(repeat: int, folds: Optional[int], nproc_per_node: Optional[int],
                         ensemble: Optional[int]) -> None:
    """--repeat, --folds, --nproc-per-node and --ensemble as flags: which may go together."""
    if ensemble is not None and ensemble > 1 and (repeat > 1 or nproc_per_node is not None):
        raise LayerwiseError("training.ensemble (--ensemble) cannot be combined with "
                             + ("--repeat" if repeat > 1 else "--nproc-per-node"))
    if folds is not None:
        if repeat > 1:
            raise LayerwiseError("--folds and --repeat cannot be combined")
        if nproc_per_node is not None:
            raise LayerwiseError("--folds and --nproc-per-node cannot be combined")


def check_ddp_batch(batch_size: int, world_size: int, where: str = "--batch-size") -> None:
    """DDP splits each batch evenly over the processes (0: the full batch, any split will do)."""
    if world_size > 1 and batch_size > 0 and batch_size % world_size:
        raise LayerwiseError(f"{where} {batch_size} does not split evenly across {world_size} processes; "
                             f"use a multiple of {world_size}")


def class_weight_vector(spec, y_train, classes: Optional[list]):
    """float32 (n_classes,) weights from `balanced`, a list, or a {label: weight} mapping."""
    import numpy as np

    setting = spec.class_weights
    if setting is None:
        return None
    if classes is None:
        raise LayerwiseError("training.class_weights applies to classification tasks only")
    n = len(classes)
    if setting == "balanced":
        from sklearn.utils.class_weight import compute_class_weight

        indices = y_train.reshape(-1).astype(np.int64)
        return compute_class_weight("balanced", classes=np.arange(n), y=indices).astype(np.float32)
    if isinstance(setting, list):
        if len(setting) != n:
            raise LayerwiseError(f"training.class_weights lists {len(setting)} weights for {n} classes")
        return np.asarray(setting, dtype=np.float32)
    names = {str(c): i for i, c in enumerate(classes)}
    weights = np.ones(n, dtype=np.float32)
    for label, weight in setting.items():
        if str(label) not in names:
            raise LayerwiseError(f"training.class_weights: unknown class {label!r} (classes: {', '.join(names)})")
        weights[names[str(label)]] = weight
    return weights


def check_data_sizes(spec, input_size: int, output_size: int) -> None:
    """Sizes the data decides: at least one input, and explicit network sizes must agree with it."""
    if input_size < 1:
        raise LayerwiseError(f"the data has {input_size} feature columns; a network needs at least 1 input")
    for name, given, found in (("input_size", spec.input_size, input_size),
                               ("output_size", spec.output_size, output_size)):
        if given is not None and given != found:
            raise LayerwiseError(f"network.{name} is {given} but the data needs {found}")


def check_explicit_values(network, arch) -> None:
    """network.weights / network.biases: one (out_features, in_features) matrix / (out_features,)
    vector per dense layer, output layer included, and biases only with network.bias."""
    if network.weights is None and network.biases is None:
        return
    import numpy as np

    from .model import explicit_value_shapes

    shapes = explicit_value_shapes(arch, network.init)
    if shapes is None:
        raise LayerwiseError("network.weights/biases: explicit values are for networks of dense layers only")
    for key, values, expected in (("weights", network.weights, shapes), ("biases", network.biases, [s[:1] for s in shapes])):
        for index, value in enumerate(values or [], start=1):
            if key == "biases" and not arch.bias:
                raise LayerwiseError("network.biases given but network.bias is false")
            if index > len(shapes):
                raise LayerwiseError(f"network.{key} has {index} entries but the network has {len(shapes)} layers")
            try:
                shape = np.asarray(value, dtype=np.float64).shape
            except ValueError:
                raise LayerwiseError(f"network.{key}[{index - 1}] (layer {index}) is not a rectangular array of numbers") from None
            if shape != expected[index - 1]:
                raise LayerwiseError(f"network.{key}[{index - 1}] (layer {index}) has shape {shape}, "
                                     f"expected {expected[index - 1]} (out_features, in_features)")


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
