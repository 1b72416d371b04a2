"""Would `layerwise tune` gain from training several trials at once through the `--repeat`
machinery (one vmapped forward/backward over stacked copies)?

    python -m benchmarks.tune_repeat --copies 4 8 --rounds 3

Times, in one process and alternating order each round, (a) K trials one after another, each an
in-memory `layerwise.fit` as `layerwise tune` runs them, and (b) the same K networks (same
architecture, optimizer and batch size; seeds 0..K-1) trained at once by `train(repeat=K)`'s
engine, without writing run directories. (b) is an upper bound of what batching trials could win:
real trials differ in learning rate, batch size and width, and only trials sharing architecture
and batch size could share a step. Prints a markdown table of medians.
"""

from __future__ import annotations

import argparse
import statistics
import time


def config(seed: int, epochs: int, hidden: list[int], data: str):
    from layerwise.spec import RunConfig

    return RunConfig.from_dict({"data": {"source": data, "split_seed": 0}, "network": {"hidden": hidden},
                                "training": {"epochs": epochs, "batch_size": 32, "seed": seed, "device": "cpu",
                                             "early_stopping": {"enabled": False}}})


def sequential(k: int, epochs: int, hidden: list[int], data: str) -> float:
    import layerwise

    started = time.perf_counter()
    for seed in range(k):
        layerwise.fit(config(seed, epochs, hidden, data))
    return time.perf_counter() - started


def batched(k: int, epochs: int, hidden: list[int], data: str) -> float:
    import io

    from layerwise.training.copies import copy_config
    from layerwise.training.prepare import load_training_data, prepare
    from layerwise.training.session import TrainingSession

    started = time.perf_counter()
    first = copy_config(config(0, epochs, hidden, data), 0)
    prepared = prepare(first, load_training_data(first))
    TrainingSession(first, prepared, "cpu", copies=k).fit(None, True, io.StringIO())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64])
    parser.add_argument("--data", default="builtin:breast_cancer")
    args = parser.parse_args()
    import torch

    sequential(1, 1, args.hidden, args.data), batched(2, 1, args.hidden, args.data)  # warm imports and caches
    print(f"{args.data}, hidden {args.hidden}, batch 32, Adam, {args.epochs} epochs, cpu, "
          f"{torch.get_num_threads()} threads\n")
    print("| trials K | one after another (s) | at once, --repeat engine (s) | speed-up |")
    print("|---:|---:|---:|---:|")
    for k in args.copies:
        one, many = [], []
        for round_ in range(args.rounds):
            order = [(one, sequential), (many, batched)]
            for times, how in (order if round_ % 2 == 0 else order[::-1]):
                times.append(how(k, args.epochs, args.hidden, args.data))
        a, b = statistics.median(one), statistics.median(many)
        print(f"| {k} | {a:.2f} | {b:.2f} | {a / b:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
