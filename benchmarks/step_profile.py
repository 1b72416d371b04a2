"""Where one training step's time goes: layerwise's own step, phase by phase, next to what no loop
can skip at the same thread count (the GEMMs the floor counts, gathering the batch's rows, the
Adam kernel). The gap between the two columns is per-op overhead.

    python -m benchmarks.step_profile --workload W1 [--threads N] [--epochs 3]
    python -m benchmarks.step_profile --workload W1 --optimizer-ab     # kept lists vs torch's step

The step is layerwise's (its model, loss, optimizer and batcher, taken from a real
`layerwise.train` run by a callback); the phases are timed with one clock read between them, so
their sum is a little above the plain step's time (also printed). Each figure is the median over
the timed epochs of the epoch's mean per step.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from . import floor as machine_floor
from .peer_layerwise import config
from .workloads import WORKLOADS, make_data

PHASES = ("data", "forward", "loss", "zero_grad", "backward", "optimizer")


def layerwise_trainer(w, threads: int):
    """The Trainer of a one-epoch layerwise run on the workload's data, and its thread count."""
    import layerwise
    from layerwise.training.callbacks import Callback

    got = {}

    class Grab(Callback):
        def on_train_begin(self, trainer):
            got["trainer"], got["threads"] = trainer, torch.get_num_threads()

    cfg = config(w, "cpu", 1)
    cfg["training"]["threads"] = threads
    with tempfile.TemporaryDirectory(prefix="step-profile-") as out:
        layerwise.train(cfg, data=make_data(w), out=out, quiet=True, callbacks=[Grab()])
    return got["trainer"], got["threads"]


def phase_seconds(trainer, epoch: int) -> dict[str, list[float]]:
    """Per step, the seconds of each phase of Trainer.train_step (the plain fp32 path)."""
    spent = {phase: [] for phase in PHASES}
    batches = iter(trainer.batches.epoch(epoch))
    model, loss_fn, optimizer = trainer.train_model, trainer.train_loss, trainer.optimizer
    while True:
        clock = [time.perf_counter()]
        batch = next(batches, None)
        if batch is None:
            return spent
        clock.append(time.perf_counter())
        outputs = model(batch[0])
        clock.append(time.perf_counter())
        loss = loss_fn(outputs, batch[1])
        clock.append(time.perf_counter())
        optimizer.zero_grad(set_to_none=True)
        clock.append(time.perf_counter())
        loss.backward()
        clock.append(time.perf_counter())
        optimizer.step()
        clock.append(time.perf_counter())
        for phase, start, stop in zip(PHASES, clock, clock[1:]):
            spent[phase].append(stop - start)


def step_seconds(trainer, epoch: int) -> float:
    """Seconds per step of Trainer.train_step itself over one epoch."""
    started = time.perf_counter()
    for batch in trainer.batches.epoch(epoch):
        trainer.train_step(*batch)
    return (time.perf_counter() - started) / len(trainer.batches)


def gather_seconds(trainer, epoch: int) -> float:
    """Seconds per step of gathering the batches alone (index_select of shuffled rows)."""
    started = time.perf_counter()
    for _ in trainer.batches.epoch(epoch):
        pass
    return (time.perf_counter() - started) / len(trainer.batches)


def adam_kernel_seconds(trainer, repeats: int = 200) -> float:
    """Seconds of the fused Adam kernels alone (step counts + update) on the run's own state."""
    optimizer = trainer.optimizer
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state = [optimizer.state[p] for p in params]
    grads = [torch.randn_like(p) * 1e-3 for p in params]
    args = ([s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state], [], [s["step"] for s in state])
    samples = []
    with torch.no_grad():
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(repeats):
                torch._foreach_add_(args[3], 1)
                torch._fused_adam_(params, grads, *args, lr=0.0, beta1=0.9, beta2=0.999,
                                   weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
            samples.append((time.perf_counter() - started) / repeats)
    return min(samples)


def optimizer_ab(trainer, rounds: int, chunk: int = 47) -> None:
    """Trainer.train_step with the fused-Adam kept lists (lean_optim) vs torch's own step,
    alternating every `chunk` steps so that load drift on a shared machine hits both alike."""
    from layerwise.training import lean_optim

    kept = lean_optim._fused_adam_step
    variants = {"torch's optimizer step": lambda optimizer: False, "kept lists (layerwise)": kept}
    batches = list(trainer.batches.epoch(2))
    seconds = {name: [] for name in variants}
    try:
        for _ in range(rounds):
            for start in range(0, len(batches) - chunk + 1, chunk):
                for name, step in variants.items():
                    lean_optim._fused_adam_step = step
                    started = time.perf_counter()
                    for batch in batches[start:start + chunk]:
                        trainer.train_step(*batch)
                    seconds[name].append((time.perf_counter() - started) / chunk)
    finally:
        lean_optim._fused_adam_step = kept
    print(f"| optimizer step | s/epoch (median chunk) | s/epoch (fastest chunk) |\n|---|---:|---:|")
    for name, values in seconds.items():
        print(f"| {name} | {statistics.median(values) * len(batches):.3f} | {min(values) * len(batches):.3f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.step_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="W1", choices=["W1", "W2"])
    parser.add_argument("--threads", type=int, default=0, help="0: layerwise's auto policy")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per measurement")
    parser.add_argument("--optimizer-ab", action="store_true",
                        help="instead: the fused-Adam kept lists against torch's step, --epochs rounds")
    args = parser.parse_args(argv)
    w = WORKLOADS[args.workload]
    trainer, threads = layerwise_trainer(w, args.threads)
    torch.set_num_threads(threads)
    trainer.model.train()
    if args.optimizer_ab:
        print(f"## {w.name}, {threads} thread(s), steps alternating in chunks of 47\n")
        optimizer_ab(trainer, args.epochs)
        return
    phases = {phase: [] for phase in PHASES}  # per epoch, the mean seconds per step: means add
    steps, gathers = [], []  # up to the epoch (a median per phase would drop preempted steps)
    for epoch in range(2, 2 + args.epochs):  # alternating, so load changes touch all three alike
        for phase, seconds in phase_seconds(trainer, epoch).items():
            phases[phase].append(statistics.fmean(seconds))
        steps.append(step_seconds(trainer, epoch))
        gathers.append(gather_seconds(trainer, epoch))
    gemm = w.flops_per_epoch / w.steps_per_epoch / machine_floor.gemm_rate(w, "cpu")
    adam = adam_kernel_seconds(trainer)
    us = {phase: statistics.median(values) * 1e6 for phase, values in phases.items()}
    floor_of = {"data": statistics.median(gathers) * 1e6, "optimizer": adam * 1e6}
    print(f"## {w.name} step, {threads} thread(s) (layerwise auto policy unless --threads); "
          f"Trainer.train_step: {statistics.median(steps) * 1e6:.0f} us/step "
          f"({statistics.median(steps) * w.steps_per_epoch:.3f} s/epoch)\n")
    print("| phase | us/step | unavoidable kernel alone, us | note |")
    print("|---|---:|---:|---|")
    for phase in PHASES:
        note = {"data": "the batcher alone (rows gathered from memory)",
                "optimizer": "torch._fused_adam_ + step counts, same tensors"}.get(phase, "")
        kernel = f"{floor_of[phase]:.0f}" if phase in floor_of else ""
        print(f"| {phase} | {us[phase]:.0f} | {kernel} | {note} |")
    print(f"| forward + loss + backward | {us['forward'] + us['loss'] + us['backward']:.0f} | {gemm * 1e6:.0f} "
          f"| the floor's GEMMs ({w.flops_per_epoch / w.steps_per_epoch / gemm / 1e9:.0f} GFLOP/s, cache-hot) |")
    print(f"| sum | {sum(us.values()):.0f} | {gemm * 1e6 + sum(floor_of.values()):.0f} | |")


if __name__ == "__main__":
    main()
