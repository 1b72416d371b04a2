"""A trained network plus what it learned about the data: everything needed to predict.

`layerwise.load(run_dir)` rebuilds it from model.json + model.safetensors alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .data.preprocess import Preprocessor
from .data.targets import TargetEncoder
from .errors import LayerwiseError
from .head import labels, probabilities  # noqa: F401  (probabilities: kept importable from here)

if TYPE_CHECKING:
    from .model import Architecture  # the network spec: imported where a module is built (pydantic, ~0.1 s)


class Predictor:
    def __init__(self, module, preprocessor: Preprocessor, encoder: TargetEncoder, meta: dict[str, Any]):
        self.module = module.eval()
        self.preprocessor, self.encoder, self.meta = preprocessor, encoder, meta

    @property
    def task(self) -> str:
        return self.encoder.task

    @property
    def classes_(self):
        return None if self.encoder.classes is None else np.asarray(self.encoder.classes, dtype=object)

    @property
    def architecture(self) -> Architecture:
        from .model import Architecture

        return Architecture.from_dict(self.meta["network"])

    @property
    def id_column(self):
        return self.meta.get("id_column")

    def unknown_columns(self, names) -> list[str]:
        """Columns given that the model neither uses nor knew from its training table (the target,
        the ID column, columns left out on purpose): they are ignored, with a warning, everywhere."""
        known = set(self.preprocessor.input_columns) | set(self.meta.get("targets") or [])
        known |= set(self.meta.get("unused_columns") or []) | {self.id_column}
        return [str(name) for name in names if str(name) not in known]

    def transform(self, X, where: str = "input") -> np.ndarray:
        """Raw rows (DataFrame, array, or one row of values) -> float32 (n, input_size).
        A DataFrame's columns are matched by name; extra columns are ignored with a warning."""
        features = self.preprocessor.transform(X, where)  # a missing column is the one error, alone
        if self.preprocessor.kind == "table" and hasattr(X, "columns"):
            unknown = self.unknown_columns(X.columns)
            if unknown:
                from .errors import warn

                warn(f"{where}: ignoring {len(unknown)} column(s) the model does not use: "
                     f"{', '.join(unknown[:10])}{', ...' if len(unknown) > 10 else ''}")
        return features

    def outputs(self, X, where: str = "input") -> np.ndarray:
        """Logits for classification; for regression, values in the targets' own units
        (the network's standardised outputs mapped back, float64)."""
        import torch

        from .training.loop import predict_outputs

        features = torch.from_numpy(self.transform(X, where))
        outputs = predict_outputs(self.module, features).numpy()
        return self.encoder.values(outputs) if self.task == "regression" else outputs

    def predict_proba(self, X, where: str = "input") -> np.ndarray:
        """(n, n_classes) class probabilities, columns in `classes_` order."""
        if self.task == "regression":
            raise LayerwiseError("predict_proba: this model does regression; use predict")
        return probabilities(self.task, self.outputs(X, where))

    def predict(self, X, where: str = "input") -> np.ndarray:
        """Original class labels for classification; (n,) or (n, k) values for regression."""
        outputs = self.outputs(X, where)
        if self.task == "regression":
            return outputs[:, 0] if outputs.shape[1] == 1 else outputs
        return labels(self.task, outputs, self.encoder)


def _torch_module(meta: dict, state: dict):
    """The torch network of model.json's "network", holding `state` (tensors or NumPy arrays)."""
    import torch

    from .ensemble import build
    from .model import Architecture, build_model

    module = build(meta, lambda: build_model(Architecture.from_dict(meta["network"])))
    module.load_state_dict({k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v
                            for k, v in state.items()})
    return module.eval()


def load(run_dir: str | Path) -> Predictor:
    """Rebuild the predictor of a finished run from its own files."""
    from .artifacts import load_model_files
    from .model import Architecture

    meta, state = load_model_files(run_dir)
    try:
        arch = Architecture.from_dict(meta["network"])
        module = _torch_module(meta, state)
        preprocessor = Preprocessor.from_dict(meta["preprocessing"])
        encoder = TargetEncoder.from_meta(meta, arch.output_size)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerwiseError(f"{run_dir}: model files do not match each other ({first[:200]})") from None
    return Predictor(module, preprocessor, encoder, meta)
