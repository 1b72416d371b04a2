"""The fresh group (`quality_data.FRESH`): an acceptance rehearsal on 16 real tables nobody here
had used, run like the extra group (`benchmarks.quality_extra`, whose runner this reuses).

    python -m benchmarks.quality_fresh                    # API: layerwise vs sklearn MLP vs HGB, seed 0
    python -m benchmarks.quality_fresh --seeds 1 2 --tables chile gestation
    python -m benchmarks.quality_fresh --csv /tmp/fresh   # as a new user: CSV file + `layerwise train`

Rows are appended to benchmarks/quality_fresh_results.jsonl; every flag of `benchmarks.quality`
(--models, --seeds, --variant, --max-rows, --results) passes through.
"""

from __future__ import annotations

from .quality_data import FRESH
from .quality_extra import main as run_group


def main(argv=None) -> None:
    run_group(argv, FRESH, "benchmarks/quality_fresh_results.jsonl", __doc__)


if __name__ == "__main__":
    main()
