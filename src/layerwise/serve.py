"""An HTTP prediction server for a run directory: FastAPI app + uvicorn.

    POST /predict   {"records": [{column: value, ...}, ...]} or {"rows": [[v1, v2, ...], ...]}
                    -> {"predictions": [...], "probabilities": [[...]], "classes": [...]}
                       (regression: {"predictions": [...] or [[...]], "targets": [names]})
    GET  /model     task, classes, input columns (with categories), network, training config
    GET  /health    {"status": "ok"}
    GET  /docs      interactive OpenAPI docs (schema at /openapi.json)

The request schema is built from the run's own input columns, so the OpenAPI document names
every column and its type, and a wrong or missing column is a 422 naming it (so is NaN or
Infinity, which Python's JSON reader accepts). A record's extra keys are ignored, as predict
ignores extra CSV columns, and named in the answer's `warnings`; the run's ID column
(data.id_column), when sent, comes back as `ids`. Numeric values may
be null (missing: filled with the training median, as in training); categorical values are
strings or null; numbers lie within ±1e15. Bodies over `max_body_bytes` and batches over `max_rows` get 413.
"""


import json
import math
import threading
import warnings
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from .errors import LayerwiseError, LayerwiseWarning

MAX_ROWS = 10_000  # rows per request
MAX_BODY_BYTES = 10 * 2**20  # 10 MiB per request body
# Largest |value| of a numeric input. Training keeps std >= 1e-12, so standardised inputs stay
# below 1e27, well inside float32 (3.4e38); larger values would overflow and are refused by schema.
MAX_ABS_VALUE = 1e15


def create_app(run_dir: Union[str, Path], *, max_rows: int = MAX_ROWS, max_body_bytes: int = MAX_BODY_BYTES):
    """The FastAPI app serving the finished run in `run_dir` (loaded once, here)."""
    _require()
    from fastapi import FastAPI, HTTPException

    from .evaluate import load_predictor

    run_dir = Path(run_dir)
    predictor = load_predictor(run_dir)
    request_model, response_model = _schemas(predictor, max_rows)
    description = _description(predictor, max_rows, max_body_bytes)
    app = FastAPI(title=f"layerwise model: {run_dir.name}", version=predictor.meta.get("layerwise_version", ""),
                  description=description)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    _json_safe_validation_errors(app)
    lock = threading.Lock()  # one forward pass at a time: torch already uses every core for one
    model_info = _model_info(predictor, run_dir, max_rows, max_body_bytes)
    errors = {400: {"description": "body could not be read as JSON text (e.g. not UTF-8)"},
              413: {"description": f"body over {max_body_bytes} bytes or more than {max_rows} rows"}}

    @app.post("/predict", response_model=response_model, response_model_exclude_none=True, responses=errors,
              summary="Predict for a batch of rows")
    def predict(request: request_model):  # type: ignore[valid-type]
        key = "records" if hasattr(request, "records") else "rows"
        rows = getattr(request, key)
        if len(rows) > max_rows:
            raise HTTPException(413, f"{key}: {len(rows)} rows; at most {max_rows} per request")
        X = _frame(predictor, key, rows)
        try:
            with lock, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", LayerwiseWarning)
                outputs = predictor.outputs(X, where=key)
        except LayerwiseError as exc:
            raise HTTPException(422, [{"type": "value_error", "loc": ["body", key], "msg": str(exc)}]) from None
        answer = _answer(predictor, key, outputs)
        said = [str(w.message) for w in caught if issubclass(w.category, LayerwiseWarning)]
        extra = sorted({k for r in rows for k in (getattr(r, "model_extra", None) or {})})
        unknown = predictor.unknown_columns(extra)
        if unknown:  # the same rule, and words, as predict's for extra CSV columns
            said.insert(0, f"{key}: ignoring {len(unknown)} column(s) the model does not use: {', '.join(unknown[:10])}")
        if said:
            answer["warnings"] = said
        if key == "records" and predictor.id_column and any(predictor.id_column in (r.model_extra or {}) for r in rows):
            answer["ids"] = [(r.model_extra or {}).get(predictor.id_column) for r in rows]
        return answer

    @app.get("/model", summary="What this model takes and returns")
    def model() -> dict[str, Any]:
        return model_info

    @app.get("/health", summary="Liveness check")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _require() -> None:
    import importlib.util

    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        raise LayerwiseError(f"serve needs {', '.join(missing)}: pip install 'layerwise[serve]'")


# ---- request and response schemas, from the run's columns ----------------------------------------
def _schemas(predictor, max_rows: int):
    """(request model, response model) naming this run's columns, types and classes."""
    from typing import Annotated, Literal

    from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, create_model

    finite = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)]
    number = Optional[finite]
    text = Optional[Annotated[str, Strict()]]  # a category; null or unseen = none of them
    # a number the training data wrote as text ("$1,200", "2017-06-27"): a number, or text read the same way
    number_or_text = Optional[Union[finite, Annotated[str, Strict()]]]
    categorical = {c["name"] for c in predictor.preprocessor.state.get("categorical", [])}
    from_text = set(predictor.preprocessor.read_from_text)
    columns = predictor.preprocessor.input_columns
    types = [text if name in categorical else number_or_text if name in from_text else number for name in columns]
    fields = {f"column_{j}": (kind, Field(..., alias=name)) for j, (name, kind) in enumerate(zip(columns, types))}
    # extra keys are allowed (and reported in `warnings`): the ID column, or columns predict would ignore
    record = create_model("Record", __config__=ConfigDict(extra="allow", populate_by_name=False), **fields)
    if categorical or from_text:  # mixed types: one schema per position (JSON Schema prefixItems)
        row = Annotated[tuple[tuple(types)], Field(description=f"values in column order: {', '.join(columns)}")]
    else:
        row = Annotated[list[number], Field(min_length=len(columns), max_length=len(columns),
                                            description=f"{len(columns)} numbers in column order")]
    batch = dict(min_length=1, description=f"1 to {max_rows} rows (more: 413)")

    class Records(BaseModel):
        """Rows as objects keyed by column name."""
        model_config = ConfigDict(extra="forbid")
        records: list[record] = Field(..., **batch)  # type: ignore[valid-type]

    class Rows(BaseModel):
        """Rows as arrays of values in column order."""
        model_config = ConfigDict(extra="forbid")
        rows: list[row] = Field(..., **batch)  # type: ignore[valid-type]

    # The body's one key picks the schema, so an error's location names the field that is wrong.
    PredictRequest = Annotated[Union[Annotated[Records, Tag("records")], Annotated[Rows, Tag("rows")]],
                               Discriminator(_request_kind, custom_error_type="body_shape",
                                             custom_error_message="expected an object with 'records' (objects keyed "
                                                                  "by column) or 'rows' (arrays in column order)")]
    return PredictRequest, _response_model(predictor, Literal)


def _request_kind(body: Any) -> Optional[str]:
    if isinstance(body, dict):
        return "records" if "records" in body else "rows" if "rows" in body else None
    return "records" if hasattr(body, "records") else "rows" if hasattr(body, "rows") else None


def _response_model(predictor, Literal):
    from pydantic import create_model

    notes = {"warnings": (Optional[list[str]], None), "ids": (Optional[list[Any]], None)}
    if predictor.task == "regression":
        single = predictor.encoder.n_outputs == 1
        return create_model("Prediction", predictions=(list[float] if single else list[list[float]], ...),
                            targets=(list[str], ...), **notes)
    label = Literal[tuple(predictor.encoder.classes)]
    return create_model("Prediction", predictions=(list[label], ...), probabilities=(list[list[float]], ...),
                        classes=(list[label], ...), **notes)


def _frame(predictor, key: str, rows: list):
    """Validated rows -> what `predictor.outputs` takes (a DataFrame for tables)."""
    columns = predictor.preprocessor.input_columns
    if key == "records":
        rows = [[getattr(r, f"column_{j}") for j in range(len(columns))] for r in rows]
    if predictor.preprocessor.kind == "table":
        import pandas as pd

        preprocessor = predictor.preprocessor  # categories, and numbers that may come as text: read as given
        as_given = {c["name"] for c in preprocessor.state["categorical"]} | set(preprocessor.read_from_text)
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
        for name in columns:
            if name not in as_given:
                frame[name] = pd.to_numeric(frame[name]).astype(np.float64)  # None -> NaN
        return frame
    return np.array(rows, dtype=np.float64)  # None -> NaN


def _answer(predictor, key: str, outputs: np.ndarray) -> dict[str, Any]:
    from fastapi import HTTPException

    from .head import labels, probabilities

    if not np.isfinite(outputs).all():
        row = int(np.flatnonzero(~np.isfinite(outputs).all(axis=1))[0])
        raise HTTPException(422, [{"type": "value_error", "loc": ["body", key, row],
                                   "msg": f"{key}: row {row + 1} is too far outside the training data "
                                          "(the network's output overflows)"}])
    if predictor.task == "regression":
        values = outputs.astype(np.float64)
        targets = [str(name) for name in predictor.meta.get("targets") or ["target"]]
        return {"predictions": (values[:, 0] if values.shape[1] == 1 else values).tolist(), "targets": targets}
    proba = probabilities(predictor.task, outputs)
    predicted = labels(predictor.task, outputs, predictor.encoder)
    return {"predictions": predicted.tolist(), "probabilities": proba.tolist(),
            "classes": predictor.encoder.classes}


def _json_safe_validation_errors(app) -> None:
    """A 422 whose echoed input holds NaN/Infinity (which Python's JSON reader accepts) must still
    be valid JSON: FastAPI's default handler fails there and answers 500."""
    from fastapi.encoders import jsonable_encoder
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    def safe(value):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)  # 'nan', 'inf', '-inf'
        if isinstance(value, dict):
            return {k: safe(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [safe(v) for v in value]
        return value

    @app.exception_handler(RequestValidationError)
    async def _unprocessable(request, exc: RequestValidationError):
        return JSONResponse(status_code=422, content={"detail": safe(jsonable_encoder(exc.errors()))})


# ---- /model ------------------------------------------------------------------------------------
def _model_info(predictor, run_dir: Path, max_rows: int, max_body_bytes: int) -> dict[str, Any]:
    state = predictor.preprocessor.state
    config = None
    from .artifacts import CONFIG, SUMMARY

    if (run_dir / CONFIG).is_file():
        from .safe_yaml import read

        config = read(run_dir / CONFIG)
    summary = run_dir / SUMMARY
    return {
        "run": run_dir.name, "task": predictor.task, "classes": predictor.encoder.classes,
        "targets": predictor.meta.get("targets"), "input_columns": predictor.preprocessor.input_columns,
        "categorical": {c["name"]: c["categories"] for c in state.get("categorical", [])},
        # numeric columns that may come as text, and how it is read (data/numeric_text.py)
        "read_from_text": predictor.preprocessor.read_from_text,
        "feature_names": predictor.preprocessor.feature_names, "network": predictor.meta.get("network"),
        "config": config, "test_metrics": _test_metrics(summary),
        "layerwise_version": predictor.meta.get("layerwise_version"),
        "limits": {"max_rows": max_rows, "max_body_bytes": max_body_bytes},
    }


def _test_metrics(summary: Path) -> Optional[dict]:
    from .artifacts import read_json

    value = read_json(summary, "summary.json") if summary.is_file() else None  # corrupt: one line at start
    return value.get("test") if isinstance(value, dict) else None


def _description(predictor, max_rows: int, max_body_bytes: int) -> str:
    columns = predictor.preprocessor.input_columns
    shown = ", ".join(columns[:12]) + (f", ... ({len(columns)} in all)" if len(columns) > 12 else "")
    classes = f" Classes: {', '.join(map(str, predictor.encoder.classes))}." if predictor.encoder.classes else ""
    return (f"A {predictor.task} network. Input columns: {shown}.{classes} Send `records` (objects keyed by "
            f"column) or `rows` (arrays in column order); null = missing. At most {max_rows} rows and "
            f"{max_body_bytes} bytes per request.")


# ---- request body limit ------------------------------------------------------------------------
class BodyLimit:
    """ASGI middleware: 413 for bodies over `max_bytes`, by Content-Length or while streaming; 400
    for JSON text whose strings hold a lone UTF-16 surrogate (`"\\ud800"`): valid JSON syntax, but no
    UTF-8 text can carry it, so every later step (pandas, the echo in a 422) would fail with a 500."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.responses import JSONResponse

        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse({"detail": f"request body is {int(declared)} bytes; "
                                               f"at most {self.max_bytes}"}, status_code=413)
            return await response(scope, receive, send)
        body, message = b"", {"more_body": True}
        while message.get("more_body", False):  # the whole body, at most max_bytes of it
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay(message, receive), send)
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                response = JSONResponse({"detail": f"request body is over {self.max_bytes} bytes"}, status_code=413)
                return await response(scope, receive, send)
        if _has_lone_surrogate(body):
            response = JSONResponse({"detail": "body holds a lone UTF-16 surrogate escape (e.g. \\ud800), "
                                               "which is not Unicode text"}, status_code=400)
            return await response(scope, receive, send)
        return await self.app(scope, _replay({"type": "http.request", "body": body, "more_body": False}, receive), send)


def _replay(first: dict, receive):
    sent = False

    async def again():
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()  # e.g. http.disconnect

    return again


def _has_lone_surrogate(body: bytes) -> bool:
    import re

    if not re.search(rb"\\u[dD][89a-fA-F]", body):  # no surrogate escape at all: the usual case
        return False
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):  # not JSON: FastAPI answers that itself
        return False
    return False


def loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
