"""`layerwise evaluate` and `layerwise predict`: use a finished run on new data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


# A confusion matrix wider than this is not printed (200 classes: 200 lines of 1,200 characters)
PRINTED_CLASSES = 20


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)


def evaluate(
    run_dir: Path = typer.Argument(..., help="A finished run directory."),
    data: str = typer.Option(..., "--data", help="Labelled data source (its test part is used when it has one)."),
    drop_missing_target: bool = typer.Option(True, "--drop-missing-target/--no-drop-missing-target", help="Skip rows whose target is missing, with a warning (default: yes); --no-drop-missing-target stops with an error instead."),
) -> None:
    """Score a trained model on labelled data; print the metrics and write eval.json."""
    from ..evaluate import evaluate_run

    result = evaluate_run(run_dir, data, drop_missing_target)
    shown = {k: v for k, v in result["metrics"].items() if k != "confusion"}
    print(f"{result['data']} ({result['split']}, {result['metrics']['rows']} rows)")
    for name, value in shown.items():
        print(f"  {name:<16} {value:.4f}" if isinstance(value, float) else f"  {name:<16} {value}")
    classes = result["classes"]
    if "confusion" in result["metrics"] and len(classes) > PRINTED_CLASSES:
        print(f"  confusion        {len(classes)} x {len(classes)}: in eval.json")
    elif "confusion" in result["metrics"]:
        print("  confusion (rows = true, columns = predicted; classes " + ", ".join(map(str, classes)) + ")")
        for row in result["metrics"]["confusion"]:
            print("   " + " ".join(f"{n:5d}" for n in row))
    print(f"wrote {Path(run_dir) / 'eval.json'}")


def predict(
    run_dir: Path = typer.Argument(..., help="A finished run directory."),
    input: Optional[str] = typer.Option(None, "--input", help="Rows to predict: .csv/.tsv/.parquet/.npz/.npy or builtin:NAME."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="CSV to write (default: print to stdout)."),
    values: Optional[str] = typer.Option(None, "--values", help="One row of raw feature values: --values 5.1,3.5,1.4,0.2"),
) -> None:
    """Predict with a trained model: labels (+ one probability per class) or values."""
    from ..evaluate import predict_frame, predict_values
    from ..errors import LayerwiseError

    if (input is None) == (values is None):
        raise LayerwiseError("predict: give exactly one of --input FILE or --values v1,v2,...")
    if values is not None:
        answer = predict_values(run_dir, values)
        if output is None:
            print(json.dumps(answer, indent=2))
            return
        _write(output, _one_row_csv(answer), 1)  # -o was ignored here: the CSV `--input` would write
        return
    frame = predict_frame(run_dir, input)
    if output is None:
        print(frame.to_csv(index=False), end="")
        return
    _write(output, frame.to_csv(index=False), len(frame))


def _one_row_csv(answer: dict) -> str:
    import csv
    import io

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(answer)
    writer.writerow(answer.values())
    return text.getvalue()


def _write(output: Path, text: str, rows: int) -> None:
    from ..artifacts import atomic_write_text
    from ..errors import LayerwiseError

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise LayerwiseError(f"--output {output}: cannot write the predictions ({exc.strerror})") from None
    print(f"wrote {rows} prediction{'s' if rows != 1 else ''} to {output}")
