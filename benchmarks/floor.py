"""The machine's floor for a workload: no loop can train faster than its GEMMs run.

CPU floor  = workload FLOPs / sustained float32 GEMM rate measured at the workload's own shapes.
GPU floor  = max(that, bytes an epoch must move / measured copy bandwidth), since small layers on
a GPU are limited by memory traffic rather than by the matmul units.

On a CPU the GEMM rate is the best of 1 thread and torch's default count (one per core): a loop
may train with either (layerwise's `threads: auto` picks 1 for small layers or when other
processes hold a core), and on a shared 2-core machine two threads' GEMMs collapse while one
thread's do not (1 vs 84-91 GFLOP/s for W1's shapes at load ~3.7, 2026-11-23 23:12 UTC), which
made the old 2-thread-only floor slower than a 1-thread epoch.
"""

from __future__ import annotations

import time

import torch

from .torch_parts import sync
from .workloads import Workload

MIN_LOOP_SECONDS = 0.05  # each timed repetition runs at least this long, so timer noise < 1%
REPETITIONS = 7  # the fastest of these is the reported rate: interference only ever slows a
# repetition down, and the floor is what the machine can do, not what it did while shared
OPTIMIZER_BYTES_PER_PARAM = {"adam": 7 * 4, "sgd": 5 * 4}  # float32 reads+writes per step:
# Adam reads w, g, m, v and writes w, m, v; SGD with momentum reads w, g, buf, writes w, buf


def _gemm_operands(w: Workload, device: str):
    """Per layer: forward x@W, grad-input g@W^T, grad-weight x^T@g, each with its own output.
    The first layer has no grad-input GEMM: its input is the data, which needs no gradient, so
    autograd never computes it (counting it made the floor ~1/3 too low for W1's 784-wide input)."""
    batch = min(w.batch, w.rows)
    ops = []
    for layer, (n_in, n_out) in enumerate(w.layers):
        x, g = torch.randn(batch, n_in, device=device), torch.randn(batch, n_out, device=device)
        weight, weight_t = torch.randn(n_in, n_out, device=device), torch.randn(n_out, n_in,
                                                                                 device=device)
        ops.append((x, weight, torch.empty(batch, n_out, device=device)))
        if layer:
            ops.append((g, weight_t, torch.empty(batch, n_in, device=device)))
        ops.append((x.t().contiguous(), g, torch.empty(n_in, n_out, device=device)))
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in ops)
    return ops, flops


def _best_seconds(step, device: str) -> float:
    """Fastest seconds of one `step()` call, timed in loops of at least MIN_LOOP_SECONDS."""
    step()  # warm-up: first-call allocation and kernel selection
    sync(device)
    loops, start = 0, time.perf_counter()
    while time.perf_counter() - start < MIN_LOOP_SECONDS:
        step()
        sync(device)
        loops += 1
    samples = []
    for _ in range(REPETITIONS):
        sync(device)
        start = time.perf_counter()
        for _ in range(loops):
            step()
        sync(device)
        samples.append((time.perf_counter() - start) / loops)
    return min(samples)


def gemm_rate(w: Workload, device: str) -> float:
    """Sustained float32 FLOP/s of the workload's training GEMMs, back to back."""
    ops, flops = _gemm_operands(w, device)

    def step():
        for a, b, out in ops:
            torch.mm(a, b, out=out)

    return flops / _best_seconds(step, device)


def copy_bandwidth(device: str, mib: int = 1024) -> float:
    """Bytes/s of a large device-to-device copy (read + write both counted)."""
    src = torch.empty(mib * 2**20 // 4, device=device)
    dst = torch.empty_like(src)
    return 2 * src.numel() * 4 / _best_seconds(lambda: dst.copy_(src), device)


def epoch_bytes(w: Workload) -> float:
    """Lower bound on memory traffic per epoch: read X once, update every parameter each step."""
    params = sum(i * o + o for i, o in w.layers)
    data = w.rows * w.features * 4  # float32
    return float(w.models * (data + w.steps_per_epoch * params * OPTIMIZER_BYTES_PER_PARAM[
        w.optimizer]))


def best_cpu_rate(w: Workload) -> tuple[float, int]:
    """(GEMM FLOP/s, threads) at the better of 1 thread and torch's default count."""
    default = torch.get_num_threads()
    rates = {}
    try:
        for threads in sorted({1, default}):
            torch.set_num_threads(threads)
            rates[threads] = gemm_rate(w, "cpu")
    finally:
        torch.set_num_threads(default)
    threads = max(rates, key=rates.get)
    return rates[threads], threads


def measure(w: Workload, device: str) -> dict:
    """The floor and what it was computed from, as stored in the results JSON."""
    if device == "cpu":
        rate, threads = best_cpu_rate(w)
    else:
        rate, threads = gemm_rate(w, device), None
    floor = {"gemm_flops_per_s": rate, "epoch_flops": w.flops_per_epoch,
             "gemm_seconds": w.flops_per_epoch / rate}
    if threads is not None:
        floor["threads"] = threads
    if device.startswith("cuda"):
        bandwidth = copy_bandwidth(device)
        floor.update(bandwidth_bytes_per_s=bandwidth, epoch_bytes=epoch_bytes(w),
                     memory_seconds=epoch_bytes(w) / bandwidth)
    floor["seconds"] = max(floor["gemm_seconds"], floor.get("memory_seconds", 0.0))
    return floor
