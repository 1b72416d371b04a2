"""The run configuration: typed, validated, and (de)serialised to YAML.

One `RunConfig` describes a whole training run. It comes from a YAML file, from CLI flags, or from
a Python dict, and every path ends in `RunConfig.from_dict`, so the three share one validator and
one set of defaults. Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .activations import ACTIVATIONS
from .errors import LayerwiseError
from .layers import LayerSpec, layer_union
from .layers.registry import MAX_LAYERS, describe_error

INITS = ("default", "xavier", "kaiming")
# Bounds on list lengths, checked before anything is built: past them a config is a mistake (or an
# attack), not a network. Deep plain MLPs stop training long before 1,000 layers.
MAX_HIDDEN_LAYERS = MAX_LAYERS  # 1,000; layers/registry.py holds it so residual blocks share it
MAX_CLASS_WEIGHTS = 100_000


class _Strict(BaseModel):
    # allow_inf_nan=False: every float of the config must be finite (`lr: .nan` is a mistake).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class DataSpec(_Strict):
    source: Optional[str] = None  # data-source grammar: builtin:NAME, file.csv, mnist:DIR, ...
    target: Optional[list[str]] = None  # target column(s) of a table
    val_split: float = Field(0.2, ge=0.0, lt=1.0)  # fraction of train held out for validation
    test_split: float = Field(0.2, ge=0.0, lt=1.0)  # used only when the source has no test part
    val: Optional[str] = None  # explicit validation source (overrides val_split)
    test: Optional[str] = None  # explicit test source (overrides test_split)
    split_seed: Optional[int] = Field(None, ge=0, lt=2 ** 32)  # seed of the val/test splits (default: training.seed)
    standardize: bool = True  # scale numeric columns to mean 0, std 1 (off: raw values, as seeds 3-4)
    max_bytes: Optional[int] = Field(None, gt=0, le=2 ** 60)  # memory budget per data file (default: half of free RAM)
    features: Optional[list[str]] = None  # use only these columns of a table (default: all but the target)
    ignore: list[str] = Field(default_factory=list)  # columns never used as features (e.g. rownames)
    id_column: Optional[str] = None  # a row ID: not a feature; copied into prediction files and API results
    # numeric columns that are codes, not quantities (zip, school, occupation): one-hot categories
    categorical: list[str] = Field(default_factory=list)
    # rows whose target is missing are dropped with a warning, as any tabular learner must (false: an error)
    drop_missing_target: bool = True
    # regression: train on (y - mean) / std of the training targets, predict in the original units
    # (None: the same as `standardize`, so raw-value tutorials stay raw)
    standardize_target: Optional[bool] = None
    # regression with scaled targets: predictions kept within the training targets' range (RealMLP;
    # preset auto turns it on; off under plain, so a tutorial's linear fit still extrapolates)
    clamp_predictions: bool = False
    scaling: Literal["standard", "robust"] = "standard"  # numeric columns: mean/std, or median/IQR
    smooth_clip: bool = False  # after scaling, x / sqrt(1 + (x/30)^2): absurd values squashed to about +-30
    # text columns: categories in fewer training rows than this share one "<other>" one-hot column,
    # with those never seen in training (0: each category its own column; data/categories.py)
    min_category_count: int = Field(0, ge=0)
    max_categories: Optional[int] = Field(None, ge=2)  # one-hot columns per text column at most, <other> included

    def scales_target(self) -> bool:
        return self.standardize if self.standardize_target is None else self.standardize_target

    @field_validator("target", "features", "ignore", "categorical", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _target_needs_a_table(self):
        # builtin:, mnist: and .npz/.npy sources bring their own target; a target named for one
        # was silently ignored (`--data builtin:iris --target prize` trained on iris's species)
        source = self.source or ""
        own_target = source.startswith(("builtin:", "mnist:")) or Path(source).suffix.lower() in (".npz", ".npy")
        if self.target and own_target:
            raise ValueError(f"target {', '.join(self.target)}: {source} brings its own target; "
                             "data.target (--target) names a column of a .csv/.tsv/.parquet table")
        return self


class NetworkSpec(_Strict):
    """The network: a typed list of `layers` (see layerwise/layers/), or the `hidden:` shorthand
    for dense layers. The output layer is always added from the task (one dense layer)."""

    input_size: Optional[int] = Field(None, gt=0)  # inferred from the data when omitted
    layers: Optional[list[layer_union()]] = Field(None, max_length=MAX_HIDDEN_LAYERS)  # typed layers: dense, conv1d, ..., residual
    hidden: list[int] = Field(default_factory=lambda: [64])  # shorthand: dense layers of these sizes
    activation: Union[str, list[str]] = "relu"  # one name for all hidden layers, or one each
    output_activation: str = "identity"  # logits; the loss applies softmax/sigmoid
    output_size: Optional[int] = Field(None, gt=0)  # inferred from the task when omitted
    bias: bool = True
    dropout: float = Field(0.0, ge=0.0, lt=1.0)  # hidden: shorthand only (else a dropout layer)
    batch_norm: bool = False  # hidden: shorthand only (else a batch_norm layer)
    # hidden: shorthand only (else a {type: periodic} first layer): "periodic" embeds each input
    # feature as [x, a few learned cosines of it] before the first dense layer (layers/embedding.py)
    embedding: Literal["none", "periodic"] = "none"
    init: str = "default"  # default (torch's), xavier, kaiming; or explicit weights below
    weights: Optional[list[list[list[float]]]] = None  # one (out_features, in_features) per Linear
    biases: Optional[list[list[float]]] = None  # one (out_features,) per Linear
    # true: read image/signal input as one flat row of values before the first layer (a conv1d
    # then sees one channel of C*H*W values); null/false: flat for dense-only networks, shaped
    # (C, L) or (C, H, W) when a conv or pool layer needs it
    flatten: Optional[bool] = None

    @field_validator("hidden")
    @classmethod
    def _positive_sizes(cls, sizes):
        if len(sizes) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"{len(sizes):,} hidden layers; at most {MAX_HIDDEN_LAYERS:,}")
        for i, size in enumerate(sizes, start=1):
            if size <= 0:
                raise ValueError(f"hidden layer {i} has size {size}; sizes must be positive")
        return sizes

    @field_validator("init")
    @classmethod
    def _known_init(cls, name):
        if name not in INITS:
            raise ValueError(f"unknown init '{name}'; expected one of {', '.join(INITS)}")
        return name

    @model_validator(mode="after")
    def _layers_or_hidden(self):
        if self.layers is None:
            return self
        if "hidden" in self.model_fields_set:
            raise ValueError("give layers or hidden, not both (hidden is shorthand for dense layers)")
        if not isinstance(self.activation, str):
            raise ValueError("with layers, activation is one name (the default of each layer); "
                             "set a layer's own activation for the others")
        for key, value, layer in (("dropout", self.dropout, "dropout"), ("batch_norm", self.batch_norm, "batch_norm"),
                                  ("embedding", self.embedding != "none", self.embedding)):
            if value:
                raise ValueError(f"{key} applies to the hidden: shorthand; with layers, add "
                                 f"{{type: {layer}}} layers where you want them")
        return self

    @model_validator(mode="after")
    def _known_activations(self):
        names = [self.activation] if isinstance(self.activation, str) else list(self.activation)
        if not isinstance(self.activation, str) and len(names) != len(self.hidden):
            raise ValueError(
                f"activation lists {len(names)} names for {len(self.hidden)} hidden layers"
            )
        for name in names + [self.output_activation]:
            if name not in ACTIVATIONS:
                raise ValueError(
                    f"unknown activation '{name}'; expected one of {', '.join(ACTIVATIONS)}"
                )
        return self

    def activations(self) -> list[str]:
        """One activation name per hidden layer."""
        if isinstance(self.activation, str):
            return [self.activation] * len(self.hidden)
        return list(self.activation)

    def layer_specs(self) -> list[LayerSpec]:
        """The hidden layers as typed layers, every default filled in (`hidden:` expanded)."""
        from .layers.sequence import expand_hidden, with_defaults

        if self.layers is not None:
            default = self.activation if isinstance(self.activation, str) else "relu"
            return with_defaults(list(self.layers), default, self.init, self.bias)
        expanded = expand_hidden(self.hidden, self.activations(), self.bias, self.batch_norm, self.dropout, self.init)
        if self.embedding == "periodic":
            from .layers.embedding import Periodic

            expanded.insert(0, Periodic())
        return expanded

    def layer_kinds(self) -> set[str]:
        """Every layer type the network uses, inside residual blocks too (e.g. {"dense", "dropout"})."""
        from .layers.sequence import walk

        return {spec.type for spec in walk(self.layer_specs())}


class EarlyStopping(_Strict):
    enabled: bool = True
    patience: int = Field(10, ge=1)  # epochs without improvement before stopping
    monitor: Optional[str] = None  # the same as training.monitor (kept for older configs)
    min_delta: float = Field(0.0, ge=0.0)


class TrainingSpec(_Strict):
    epochs: int = Field(20, ge=1, le=1_000_000)
    batch_size: int = Field(32, ge=0, le=2 ** 31)  # 0 = full batch
    optimizer: Literal["sgd", "adam", "adamw", "rmsprop"] = "adam"
    lr: float = Field(1e-3, gt=0.0)
    momentum: float = Field(0.0, ge=0.0, lt=1.0)  # sgd and rmsprop; >= 1 never forgets a step: diverges
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0.0)
    schedule: Literal["none", "step", "cosine", "onecycle", "plateau"] = "none"
    step_size: int = Field(10, ge=1)  # step schedule: epochs between decays
    gamma: float = Field(0.1, gt=0.0, lt=1.0)  # step/plateau decay factor (torch's plateau needs < 1)
    grad_clip: Optional[float] = Field(None, gt=0.0)  # max global gradient norm
    class_weights: Optional[Union[Literal["balanced"], list[float], dict[str, float]]] = Field(
        None, max_length=MAX_CLASS_WEIGHTS)
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)
    # the metric that picks the best epoch (early stopping, best-weight restore): any column of
    # metrics.csv, loss-like ones minimised. None: val_accuracy (classification), val_r2 (regression)
    monitor: Optional[str] = None
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)  # classification: soften the one-hot targets
    adam_beta2: float = Field(0.999, gt=0.0, lt=1.0)  # Adam/AdamW second-moment decay
    shuffle: bool = True
    checkpoint_every: int = Field(0, ge=0)  # also checkpoint every N steps (0: at epoch ends only)
    on_nan: Literal["stop", "skip-batch"] = "stop"  # a non-finite loss stops the run, or skips the batch
    precision: Literal["fp32", "bf16"] = "fp32"  # bf16: autocast the forward pass (CPUs with AVX512-BF16, GPUs)
    seed: int = Field(0, ge=0, lt=2 ** 32)  # scikit-learn's splits take seeds in [0, 2**32)
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    log: list[Literal["tensorboard", "mlflow"]] = Field(default_factory=list)  # viewers that also get the metrics
    mlflow_uri: str = "sqlite:///mlflow.db"  # MLflow tracking store for log: [mlflow] (relative to the cwd)
    threads: int = Field(0, ge=0, le=4096)  # CPU threads for torch; 0 = auto (training/threads.py)
    ensemble: int = Field(1, ge=1, le=256)  # K > 1: K members (seeds seed..seed+K-1) trained at once, one averaged model
    # independent: K networks of their own (vmapped copies); bagging: the same, but each member holds
    # out its own validation rows (training/bagging.py); tabm / tabm-mini: one network's weights
    # shared by the K members, which differ by small adapters and their output layers (ensemble.py)
    ensemble_kind: Literal["independent", "bagging", "tabm", "tabm-mini"] = "independent"

    def stacked_members(self) -> bool:
        """An ensemble whose members are whole networks trained as stacked copies (copies.py)."""
        return self.ensemble > 1 and self.ensemble_kind in ("independent", "bagging")

    @field_validator("early_stopping", mode="before")
    @classmethod
    def _bool_or_patience(cls, value):
        # `early_stopping: false` turns it off, `early_stopping: 5` sets the patience.
        if isinstance(value, bool):
            return {"enabled": value}
        if isinstance(value, int):
            return {"patience": value}
        return value

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self):
        if self.nesterov and (self.optimizer != "sgd" or self.momentum <= 0):
            raise ValueError("nesterov needs optimizer sgd with momentum > 0")
        return self


class RunConfig(_Strict):
    # auto: settings the config leaves out are chosen from the task and data size (recipe.py);
    # plain: every left-out setting keeps its default shown above. A config that names no preset
    # takes $LAYERWISE_PRESET, else auto (the test suite sets plain: small, fast tutorial settings)
    preset: Literal["auto", "plain"] = Field(default_factory=lambda: os.environ.get("LAYERWISE_PRESET") or "auto",
                                             validate_default=True)
    data: DataSpec = Field(default_factory=DataSpec)
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    task: Literal["auto", "multiclass", "binary", "regression"] = "auto"
    loss: Literal["auto", "cross_entropy", "bce", "mse", "l1", "huber"] = "auto"
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    out: Optional[str] = None  # run directory; default runs/<data>-<timestamp>
    name: Optional[str] = None  # a label for the run (defaults to the data name)
    resolved: Optional[dict[str, Any]] = None  # written by layerwise (versions, rows); ignored on input

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "config") -> "RunConfig":
        if not isinstance(raw, dict):
            raise LayerwiseError(f"{where}: expected a mapping of settings, got {type(raw).__name__}")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise LayerwiseError(f"{where}: {_first_error(exc)}") from None

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: list[str] = ()) -> "RunConfig":
        raw = load_yaml(path)
        apply_overrides(raw, overrides)
        return cls.from_dict(raw, where=str(path))

    def seed_of_splits(self) -> int:
        """The seed the validation/test splits are drawn with: data.split_seed, else training.seed."""
        return self.training.seed if self.data.split_seed is None else self.data.split_seed

    def to_dict(self) -> dict[str, Any]:
        raw = self.model_dump(mode="json")
        # one network language at a time: `layers`, or the `hidden` shorthand (as configs always had)
        raw["network"].pop("hidden" if self.network.layers is not None else "layers")
        return raw


def _first_error(exc: ValidationError) -> str:
    # A union (class_weights: 'balanced' | list | dict) reports one error per branch; the deepest
    # is the branch the value was meant for. Branch tags like "list[float]" are not keys.
    err = max(exc.errors(), key=lambda e: len(e["loc"]))
    if err["loc"][:2] == ("network", "layers") and len(err["loc"]) > 2:
        return describe_error(err)  # network.layers[2].kernel_size: ...
    key = ".".join(str(part) for part in err["loc"] if "[" not in str(part)) or "config"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        from .suggest import did_you_mean

        valid = _valid_keys(err["loc"][:-1])
        return f"unknown key '{key}'{did_you_mean(str(err['loc'][-1]), valid)}; valid keys here: {', '.join(valid)}"
    if err["type"] == "literal_error":
        from .suggest import did_you_mean

        choices = [str(c).strip("'") for c in str(err.get("ctx", {}).get("expected", "")).replace(" or ", ", ").split(", ")]
        return f"'{key}': {message}, got {err.get('input')!r}{did_you_mean(str(err.get('input')), choices)}"
    return f"'{key}': {message}"


def _valid_keys(loc: tuple) -> list[str]:
    """The keys of the config section at `loc` (() = the top level), for 'unknown key' errors."""
    section: Any = RunConfig
    for part in loc:
        field = getattr(section, "model_fields", {}).get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        section = field.annotation
    return [name for name in section.model_fields if name != "resolved"]


def load_yaml(path: str | Path) -> dict[str, Any]:
    from .safe_yaml import read

    path = Path(path)
    if not path.is_file():
        raise LayerwiseError(f"{path}: config file not found")
    raw = read(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LayerwiseError(f"{path}: expected a mapping of settings at the top level")
    return raw


def set_dotted(raw: dict[str, Any], assignment: str) -> None:
    """Apply one `--set key.sub=value` override; the value is user text, parsed as YAML (so 1e-3, [1, 2])."""
    from .safe_yaml import parse_value

    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise LayerwiseError(f"--set {assignment!r}: expected key=value, e.g. training.lr=0.01")
    set_dotted_value(raw, key.strip(), parse_value(text, f"--set {key.strip()}"))


def set_dotted_value(raw: dict[str, Any], key: str, value: Any, where: str = "--set") -> None:
    """Put an already-typed value at a dotted key (`training.lr`), making sections as needed;
    `where` names the caller in the error (`--set`, `search`)."""
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise LayerwiseError(f"{where} {key}: '{part}' is not a section of the config")
        node = child
    node[parts[-1]] = value


def apply_overrides(raw: dict[str, Any], overrides) -> None:
    """Apply overrides in order: a `key=value` string is `--set` user text (YAML-parsed); a mapping is
    typed values already (CLI flags, as a nested dict), merged in without any text round trip."""
    for item in overrides:
        if isinstance(item, Mapping):
            for key, value in _flatten(item):
                set_dotted_value(raw, key, value)
        else:
            set_dotted(raw, item)


def _flatten(nested: Mapping, prefix: str = ""):
    for name, value in nested.items():
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value
