"""Subprocess entry: run one peer on one workload and write its row as JSON.

A module of its own (not `runner`'s __main__) so that `runner.NotAvailable` raised by a peer is the
same class the runner catches.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import runner
from .workloads import Data, Workload


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="internal: one peer, one workload")
    parser.add_argument("--peer", required=True, choices=runner.PEERS)
    parser.add_argument("--workload", required=True, help="Workload fields as JSON")
    parser.add_argument("--device", required=True)
    parser.add_argument("--timed", type=int, required=True)
    parser.add_argument("--files", nargs=2, type=Path)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    fields = json.loads(args.workload)
    w = Workload(**{**fields, "hidden": tuple(fields["hidden"])})
    row = runner.run_here(args.peer, w, Data(w, tuple(args.files) if args.files else None),
                          args.device, args.timed)
    args.result.write_text(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
