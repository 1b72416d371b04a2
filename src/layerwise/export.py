"""Export a trained network *with* its preprocessing: one ONNX graph, or a TorchScript module,
from raw feature values to probabilities (classification) or values (regression).

What the graph does, in the predictor's own order (data/preprocess.py):
  numeric columns      NaN -> the training median, then (x - mean) / std [then smooth clipping], in float64
                       like the predictor; plus a 0/1 column per "<col>_missing" indicator
  categorical columns  ONNX: the raw strings, mapped to category codes by an ai.onnx.ml
                       LabelEncoder (unseen or "" -> all-zero block); TorchScript: int64 codes
                       (index into the category list in the metadata, -1 = missing/unseen)
  images               pixels / full-scale value, flattened row-major
  head                 softmax (multiclass) or sigmoid (binary) -> "probabilities" (n, n_classes)
                       and "label_index" (n,); regression -> "predictions" (n, n_targets), mapped back from the
                       standardised scale the network learned (model.json "target_scaling")

The label map (`classes`), the input columns and the whole model.json travel in the file's
metadata (ONNX `metadata_props`, TorchScript extra file `layerwise.json`). Rows with infinite
values are an error for the predictor but cannot raise inside a graph: callers must keep inputs
finite (NaN is fine).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from .data.categories import codes_of_values, width
from .errors import LayerwiseError

FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}
EXPORT_FORMAT_VERSION = 1
OPSET = 18  # default-domain opset of the exported graph
ML_OPSET = 3  # ai.onnx.ml opset: LabelEncoder with string keys


def export(source: Union[str, Path, Any], path: Union[str, Path, None] = None, format: str = "onnx") -> Path:
    """Write `source` (a run directory or a `Predictor`) as ONNX or TorchScript; returns the path
    (default: RUN_DIR/model.onnx or RUN_DIR/model.pt).

    >>> export("runs/iris", "iris.onnx")   # doctest: +SKIP
    """
    _check_format(format)
    if path is None:
        if not isinstance(source, (str, Path)):
            raise LayerwiseError("export: give an output path when exporting a predictor")
        path = default_path(source, format)
    predictor = _as_predictor(source)
    path = Path(path)
    if not path.parent.is_dir():
        raise LayerwiseError(f"-o {path}: directory {path.parent} does not exist")
    if path.is_dir():
        raise LayerwiseError(f"-o {path}: is a directory; name the file, e.g. {path / ('model' + FORMATS[format])}")
    _require(format)
    data = onnx_bytes(predictor) if format == "onnx" else torchscript_bytes(predictor)
    from .artifacts import atomic_write_bytes

    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise LayerwiseError(f"-o {path}: cannot write the file ({exc.strerror or exc})") from None
    return path


def default_path(run_dir: Union[str, Path], format: str) -> Path:
    _check_format(format)
    return Path(run_dir) / f"model{FORMATS[format]}"


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise LayerwiseError(f"--format {format!r}: expected one of {', '.join(FORMATS)}")


def _require(format: str) -> None:
    """ONNX export needs the `export` extra; say so in one line instead of a traceback."""
    if format != "onnx":
        return
    import importlib.util

    missing = [m for m in ("onnx", "onnxscript", "onnxruntime") if importlib.util.find_spec(m) is None]
    if missing:
        raise LayerwiseError(f"--format onnx needs {', '.join(missing)}: pip install 'layerwise[export]'")
    import torch

    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    if (major, minor) < (2, 6):  # the torch.export-based exporter used here
        raise LayerwiseError(f"--format onnx needs torch >= 2.6 (this is {torch.__version__}); "
                             "--format torchscript works with it")


def _as_predictor(source):
    if isinstance(source, (str, Path)):
        from .evaluate import load_predictor

        return load_predictor(source)
    if not hasattr(source, "preprocessor") or not hasattr(source, "module"):
        raise LayerwiseError(f"export: expected a run directory or a layerwise Predictor, got {type(source).__name__}")
    return source


# ---- the module that holds preprocessing + network + head ---------------------------------------
def inputs_of(predictor) -> list[dict[str, Any]]:
    """The exported model's inputs, in order: name, dtype, columns (and categories)."""
    state = predictor.preprocessor.state
    if state["kind"] == "image":
        return [{"name": "features", "dtype": "float32", "columns": predictor.preprocessor.feature_names,
                 "shape": state["shape"], "note": "raw pixels, flattened row-major"}]
    inputs = []
    if state["numeric"]:
        inputs.append({"name": "features", "dtype": "float32", "columns": [c["name"] for c in state["numeric"]],
                       "note": "NaN = missing"})
    if state["categorical"]:
        inputs.append({"name": "categorical", "dtype": "string",
                       "columns": [c["name"] for c in state["categorical"]],
                       "categories": {c["name"]: c["categories"] for c in state["categorical"]},
                       "note": "TorchScript takes int64 codes into each category list instead; -1 = missing; "
                               "a value not listed counts as <other> where the column has one (other_columns)",
                       "other_columns": [c["name"] for c in state["categorical"] if c.get("other")]})
    return inputs


def output_names(predictor) -> list[str]:
    return ["predictions"] if predictor.task == "regression" else ["probabilities", "label_index"]


def export_module(predictor):
    """A torch module: raw inputs (see `inputs_of`) -> outputs (see `output_names`), eval mode."""
    import copy

    import torch
    from torch import nn

    from .head import torch_head

    state = predictor.preprocessor.state

    class Exported(nn.Module):
        def __init__(self):
            super().__init__()
            self.network = copy.deepcopy(predictor.module).float().eval()
            self.image = state["kind"] == "image"
            numeric = [] if self.image else state["numeric"]
            self.n_numeric = len(numeric)
            self.scale = float(state.get("scale", 1.0))
            self.clip = float(state.get("smooth_clip") or 0.0)
            double = dict(dtype=torch.float64)
            self.register_buffer("median", torch.tensor([c["median"] for c in numeric], **double))
            self.register_buffer("mean", torch.tensor([c["mean"] for c in numeric], **double))
            self.register_buffer("std", torch.tensor([c["std"] for c in numeric], **double))
            self.register_buffer("indicators", torch.tensor([j for j, c in enumerate(numeric) if c["indicator"]],
                                                            dtype=torch.int64))
            self.n_indicators = int(self.indicators.numel())
            self.sizes = [] if self.image else [width(c) for c in state["categorical"]]
            self.task = predictor.task
            scaling = predictor.encoder.scaling()  # regression targets: the network predicts (y - mean) / std
            self.scaled_target = scaling is not None
            if self.scaled_target:
                self.register_buffer("target_mean", torch.tensor(scaling["mean"], **double))
                self.register_buffer("target_std", torch.tensor(scaling["std"], **double))
            self.clamped = predictor.encoder.clamps  # predictions kept within the training targets' range
            if self.clamped:
                self.register_buffer("target_low", torch.tensor(scaling["low"], **double))
                self.register_buffer("target_high", torch.tensor(scaling["high"], **double))

        def forward(self, *inputs):
            parts = []
            if self.image:
                parts.append(inputs[0].reshape(inputs[0].shape[0], -1).float() / self.scale)
            elif self.n_numeric:
                x = inputs[0].double()  # (n, n_numeric); float64 like the predictor
                missing = torch.isnan(x)
                z = (torch.where(missing, self.median, x) - self.mean) / self.std
                if self.clip:  # smooth clipping, as data/preprocess.py
                    z = z / torch.sqrt(1.0 + (z / self.clip) ** 2)
                parts.append(z.float())
                if self.n_indicators:
                    parts.append(missing.index_select(1, self.indicators).float())
            if self.sizes:
                codes = inputs[-1]  # (n, n_categorical) int64
                for j, size in enumerate(self.sizes):
                    levels = torch.arange(size, dtype=codes.dtype, device=codes.device)
                    parts.append((codes[:, j:j + 1] == levels).float())  # -1 matches nothing
            outputs = self.network(torch.cat(parts, dim=1) if len(parts) > 1 else parts[0])
            if self.task == "regression":
                if not self.scaled_target:
                    return outputs
                values = outputs.double() * self.target_std + self.target_mean  # float64, like the predictor
                if self.clamped:
                    values = torch.minimum(torch.maximum(values, self.target_low), self.target_high)
                return values.float()
            return torch_head(self.task, outputs)

    return Exported().eval()


def example_inputs(predictor, rows: int = 2, seed: int = 0) -> tuple:
    """Torch inputs for tracing/exporting: `rows` synthetic rows around the training statistics."""
    import torch

    arrays = synthetic_rows(predictor, rows, seed)
    return tuple(torch.from_numpy(a) if a.dtype != object else torch.from_numpy(_codes(predictor, a))
                 for a in arrays)


def synthetic_rows(predictor, rows: int, seed: int = 0) -> list[np.ndarray]:
    """Raw inputs for each exported input: numbers drawn around each column's mean (with a few
    NaNs where the column had gaps), categories drawn from the training ones (and one unseen)."""
    rng = np.random.default_rng(seed)
    state = predictor.preprocessor.state
    arrays = []
    for spec in inputs_of(predictor):
        if spec["name"] == "features" and state["kind"] == "image":
            arrays.append((rng.random((rows, len(spec["columns"]))) * state["scale"]).astype(np.float32))
        elif spec["name"] == "features":
            stats = state["numeric"]
            values = np.array([c["mean"] for c in stats]) + rng.standard_normal((rows, len(stats))) * np.array(
                [c["std"] for c in stats])
            for j, column in enumerate(stats):
                if column["indicator"]:
                    values[rng.random(rows) < 0.2, j] = np.nan
            arrays.append(values.astype(np.float32))
        else:
            columns = [spec["categories"][name] + ["<unseen>"] for name in spec["columns"]]
            arrays.append(np.array([[rng.choice(c) for c in columns] for _ in range(rows)], dtype=object))
    return arrays


def _codes(predictor, strings: np.ndarray) -> np.ndarray:
    """(n, k) category strings -> int64 codes into each column's category list (-1: unseen, or
    the <other> column's code, len(categories), where the column has one)."""
    codes = np.full(strings.shape, -1, dtype=np.int64)
    for j, column in enumerate(predictor.preprocessor.state["categorical"]):
        codes[:, j] = _column_codes(column, strings[:, j])
    return codes


def _column_codes(column: dict, values) -> np.ndarray:
    codes, present = codes_of_values(column, values)
    return np.where(present & (codes < 0) & bool(column.get("other")), len(column["categories"]), codes)


def metadata(predictor) -> dict[str, str]:
    """String key -> string value pairs stored in the exported file."""
    from ._version import __version__

    return {"layerwise_export_format_version": str(EXPORT_FORMAT_VERSION), "layerwise_version": __version__,
            "task": predictor.task, "classes": json.dumps(predictor.encoder.classes),
            "targets": json.dumps(predictor.meta.get("targets")), "inputs": json.dumps(inputs_of(predictor)),
            "outputs": json.dumps(output_names(predictor)), "model_json": json.dumps(predictor.meta)}


# ---- ONNX ------------------------------------------------------------------------------------------
def onnx_bytes(predictor) -> bytes:
    return onnx_model(predictor).SerializeToString()


def onnx_model(predictor):
    """The checked ONNX ModelProto (exported with torch's torch.export-based exporter)."""
    import logging
    import warnings

    import onnx
    import torch

    module, names = export_module(predictor), [spec["name"] for spec in inputs_of(predictor)]
    torch_names = ["categorical_codes" if name == "categorical" else name for name in names]
    batch = torch.export.Dim("n")
    quiet = logging.getLogger("torch.onnx")
    level, quiet.level = quiet.level, logging.ERROR  # it logs about optional torchvision ops
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(module, example_inputs(predictor), dynamo=True, opset_version=OPSET,
                                        input_names=torch_names, output_names=output_names(predictor),
                                        dynamic_shapes=(({0: batch},) * len(names),), verbose=False)
    finally:
        quiet.level = level
    model = program.model_proto
    if "categorical" in names:
        _strings_to_codes(model, predictor)
    for key, value in metadata(predictor).items():
        model.metadata_props.add(key=key, value=value)
    model.producer_name = "layerwise"
    onnx.checker.check_model(model)
    return model


def _strings_to_codes(model, predictor) -> None:
    """Replace the int64 "categorical_codes" input with a string "categorical" input, mapped to
    codes inside the graph by one ai.onnx.ml LabelEncoder per column."""
    from onnx import TensorProto, helper

    graph = model.graph
    columns = predictor.preprocessor.state["categorical"]
    old = next(i for i in graph.input if i.name == "categorical_codes")
    batch = old.type.tensor_type.shape.dim[0]
    graph.input.remove(old)
    graph.input.append(helper.make_tensor_value_info("categorical", TensorProto.STRING,
                                                     [batch.dim_param or None, len(columns)]))
    graph.initializer.append(helper.make_tensor("lw_axis1", TensorProto.INT64, [1], [1]))
    nodes, codes = [], []
    for j, column in enumerate(columns):
        graph.initializer.append(helper.make_tensor(f"lw_col{j}", TensorProto.INT64, [], [j]))
        keys, values = list(column["categories"]), list(range(len(column["categories"])))
        if column.get("other") and "" not in keys:  # "" = missing (all-zero); any other unlisted value: <other>
            keys, values = keys + [""], values + [-1]
        nodes += [
            helper.make_node("Gather", ["categorical", f"lw_col{j}"], [f"lw_text{j}"], axis=1),
            helper.make_node("LabelEncoder", [f"lw_text{j}"], [f"lw_code{j}"], domain="ai.onnx.ml",
                             keys_strings=keys, values_int64s=values,
                             default_int64=len(column["categories"]) if column.get("other") else -1),
            helper.make_node("Unsqueeze", [f"lw_code{j}", "lw_axis1"], [f"lw_codes{j}"]),
        ]
        codes.append(f"lw_codes{j}")
    nodes.append(helper.make_node("Concat", codes, ["categorical_codes"], axis=1))
    for node in reversed(nodes):
        graph.node.insert(0, node)
    if not any(op.domain == "ai.onnx.ml" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))


def run_onnx(path_or_bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run an exported graph in onnxruntime on raw inputs (as `synthetic_rows` shapes them)."""
    import onnxruntime

    source = str(path_or_bytes) if isinstance(path_or_bytes, (str, Path)) else path_or_bytes
    session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
    feed = {}
    for spec, array in zip(session.get_inputs(), inputs):
        feed[spec.name] = array.astype(str) if spec.type == "tensor(string)" else array
    return session.run(None, feed)


def predictor_inputs(predictor, arrays: list[np.ndarray]):
    """The same rows as `arrays`, shaped for `predictor.predict` (a DataFrame for tables)."""
    state = predictor.preprocessor.state
    if state["kind"] != "table":
        return arrays[0]
    import pandas as pd

    frame = {}
    for spec, array in zip(inputs_of(predictor), arrays):
        for j, name in enumerate(spec["columns"]):
            frame[name] = array[:, j]
    return pd.DataFrame(frame)[state["columns"]]


def max_difference(predictor, path: Union[str, Path], rows: int = 256, seed: int = 0,
                   format: Optional[str] = None) -> float:
    """Largest |exported - predictor| over `rows` synthetic rows (probabilities or predictions), for
    an ONNX (onnxruntime) or TorchScript file: `format`, else the file's suffix, says which."""
    arrays = synthetic_rows(predictor, rows, seed)
    onnx = format == "onnx" if format else str(path).endswith(FORMATS["onnx"])
    got = (run_onnx(path, arrays) if onnx else run_torchscript(path, predictor, arrays))[0]
    import warnings

    from .errors import LayerwiseWarning

    X = predictor_inputs(predictor, arrays)
    with warnings.catch_warnings():  # the made-up rows hold an '<unseen>' category on purpose: not the user's
        warnings.simplefilter("ignore", LayerwiseWarning)
        want = predictor.outputs(X) if predictor.task == "regression" else predictor.predict_proba(X)
    return float(np.max(np.abs(got.astype(np.float64) - want.reshape(got.shape))))


# ---- TorchScript -----------------------------------------------------------------------------------
def torchscript_bytes(predictor) -> bytes:
    """`torch.jit.trace` of the same module; categorical columns enter as int64 codes."""
    import warnings

    import torch

    # torch >= 2.10 deprecates TorchScript in favour of torch.export; the format is kept for the
    # C++/mobile runtimes that still load it (ONNX is the recommended export). The tracer's notes
    # about constant buffer shapes are expected here too.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(export_module(predictor), example_inputs(predictor), check_trace=False)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={"layerwise.json": json.dumps(metadata(predictor))})
    return buffer.getvalue()


def run_torchscript(path: Union[str, Path], predictor, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run a TorchScript export on raw inputs; string categories are turned into codes first."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch >= 2.10 deprecates TorchScript
        module = torch.jit.load(str(path))
    tensors = [torch.from_numpy(_codes(predictor, a) if a.dtype.kind in "OUS" else np.array(a)) for a in inputs]
    with torch.inference_mode():
        outputs = module(*tensors)
    return [t.numpy() for t in (outputs if isinstance(outputs, tuple) else (outputs,))]
