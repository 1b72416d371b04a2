"""Round 2 of the acceptance rehearsal (`quality_data.ROUND2`): 16 real tables nobody here had used,
weighted to larger tables (up to 50,000 rows), many text categories, many classes, wide tables and
skewed targets; run like the extra group (`benchmarks.quality_extra`, whose runner this reuses).

    python -m benchmarks.quality_round2                   # API: layerwise vs sklearn MLP vs HGB, seed 0
    python -m benchmarks.quality_round2 --seeds 1 2 --tables opt labor
    python -m benchmarks.quality_round2 --csv /tmp/r2     # as a new user: CSV file + `layerwise train`

Tables are used up to 50,000 rows (a fixed subsample above that; --max-rows changes it). Rows are
appended to benchmarks/quality_round2_results.jsonl; every flag of `benchmarks.quality` (--models,
--seeds, --variant, --max-rows, --results) passes through.
"""

from __future__ import annotations

from .quality_data import ROUND2
from .quality_extra import main as run_group


def main(argv=None) -> None:
    argv = list(argv) if argv is not None else __import__("sys").argv[1:]
    if "--max-rows" not in argv and "--csv" not in argv:
        argv += ["--max-rows", "50000"]
    run_group(argv, ROUND2, "benchmarks/quality_round2_results.jsonl", __doc__)


if __name__ == "__main__":
    main()
