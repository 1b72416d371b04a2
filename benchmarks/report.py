"""Turn peer rows into ratios, a printed Markdown table and a JSON file.

Ratios are "this row's seconds / the reference's seconds", so 2.0 means twice as slow. The
reference is layerwise when it ran, else the fastest row that did (the header says which).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

from .workloads import Workload


def machine(device: str) -> dict:
    import torch

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux
        cpu = platform.processor() or cpu
    info = {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "load_1min": os.getloadavg()[0],  # > 0.5 at start means someone else shares the cores
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    info["layerwise_commit"] = _git_commit()
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _git_commit() -> str:
    """The checkout being measured: short hash, '+dirty' when the tree has uncommitted edits."""
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=repo, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine_line(info: dict) -> str:
    gpu = f", GPU {info['gpu']}" if "gpu" in info else ""
    return (f"machine: {info['cpu']}, {info['cores']} cores (torch {info['torch_threads']} "
            f"threads){gpu}, torch {info['torch']}, Python {info['python']}, {info['date']}, "
            f"load {info['load_1min']:.2f} at start, checkout {info['layerwise_commit']}")


def add_ratios(w: Workload, rows: list[dict], floor: dict | None) -> str:
    """Fill x_reference / x_floor / samples_per_s in place; return the reference's name."""
    ok = [r for r in rows if r["status"] == "ok"]
    by_peer = {r["peer"]: r for r in ok}
    reference = by_peer.get("layerwise") or min(ok, key=lambda r: r["median_s"], default=None)
    bare = by_peer.get("bare")
    for r in ok:
        r["samples_per_s"] = w.rows * w.models / r["median_s"] * (w.run_epochs or 1)
        if reference:
            r["x_reference"] = r["median_s"] / reference["median_s"]
        if bare:
            r["x_bare"] = r["us_per_step"] / bare["us_per_step"]
        if floor and not w.run_epochs:
            r["x_floor"] = r["median_s"] / floor["seconds"]
        if "one_model_s" in r:
            r["x_one_model"] = r["median_s"] / r["one_model_s"]
    return reference["peer"] if reference else "none"


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _cells(w: Workload, r: dict, reference: str) -> list[str]:
    if r["status"] != "ok":
        return [r["label"], r["status"]] + [""] * (len(_header(w, reference)) - 3) + [
            r.get("detail", "")]
    head = [r["label"]]
    if w.run_epochs:
        head += [_fmt(r["us_per_step"]), _fmt(r["call_median_s"])]
    else:
        head += [_fmt(r["median_s"]), _fmt(r["samples_per_s"])]
    tail = [_fmt(r.get("x_reference")), _fmt(r.get("x_bare") if w.run_epochs else r.get(
        "x_floor"))]
    if w.from_file:
        tail.append(_fmt(r.get("rss_mb"), 4))
    if w.models > 1:
        tail.append(_fmt(r.get("x_one_model")))
    return head + tail + [r.get("note", "")]


def _header(w: Workload, reference: str) -> list[str]:
    ref = "x layerwise" if reference == "layerwise" else f"x best ({reference})"
    if w.run_epochs:
        cols = ["peer", "us/step (median)", "s per run incl. setup", ref, "x bare loop"]
    else:
        cols = ["peer", "s/epoch (median)", "samples/s", ref, "x floor"]
    if w.from_file:
        cols.append("peak RSS MB")
    if w.models > 1:
        cols.append("x one model")
    return cols + ["note"]


def table(w: Workload, rows: list[dict], floor: dict | None, reference: str) -> str:
    header = _header(w, reference)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    if floor and not w.run_epochs:
        rate = f"floor: GEMM at {floor['gemm_flops_per_s'] / 1e9:.0f} GFLOP/s"
        if "threads" in floor:
            rate += f" ({floor['threads']} thread{'s' if floor['threads'] > 1 else ''})"
        if "bandwidth_bytes_per_s" in floor:
            rate += f", copy {floor['bandwidth_bytes_per_s'] / 1e9:.0f} GB/s"
        cells = [rate, _fmt(floor["seconds"]), _fmt(w.rows * w.models / floor["seconds"])]
        cells += [""] * (len(header) - len(cells) - 1)
        busy = floor.get("others_cpu", 0.0)
        cells.append(f"other processes used {busy:.0%} of the CPUs meanwhile" if busy > 0.05
                     else "")
        lines.append("| " + " | ".join(cells) + " |")
    for r in rows:
        lines.append("| " + " | ".join(_cells(w, r, reference)) + " |")
    return "\n".join(lines)


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
