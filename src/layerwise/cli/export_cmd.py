"""`layerwise export`: write a run's network, with its preprocessing, as ONNX or TorchScript."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

CHECK_ROWS = 256  # synthetic rows compared between the exported file and the predictor


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)


def export_command(
    run_dir: Path = typer.Argument(..., help="A finished run directory."),
    format: str = typer.Option("onnx", "--format", "-f", help="onnx (one graph for onnxruntime) or torchscript."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="File to write (default RUN_DIR/model.onnx or model.pt)."),
    check: bool = typer.Option(True, "--check/--no-check",
                               help=f"Compare the file's outputs with layerwise's on {CHECK_ROWS} synthetic rows."),
) -> None:
    """Export the network with its preprocessing: raw feature values in, probabilities or values out."""
    import json

    from ..evaluate import load_predictor
    from ..export import default_path, export, inputs_of, max_difference, output_names

    predictor = load_predictor(run_dir)  # first: a missing run is the error to report, not the format
    path = export(predictor, output or default_path(run_dir, format), format)
    for spec in inputs_of(predictor):
        name = "categorical_codes" if format == "torchscript" and spec["name"] == "categorical" else spec["name"]
        dtype = "int64" if name == "categorical_codes" else spec["dtype"]
        print(f"input  {name:<18} {dtype:<8} (n, {len(spec['columns'])}): {_columns(spec['columns'])}")
    print(f"output {', '.join(output_names(predictor))}"
          + (f"  classes {json.dumps(predictor.encoder.classes)}" if predictor.encoder.classes else ""))
    if check:
        difference = max_difference(predictor, path, CHECK_ROWS, format=format)
        print(f"check  max |{format} - layerwise| = {difference:.2e} on {CHECK_ROWS} synthetic rows")
    print(f"wrote {path}")


def _columns(names: list[str], shown: int = 6) -> str:
    return ", ".join(names[:shown]) + (f", ... ({len(names)} columns)" if len(names) > shown else "")
