"""What reading numbers and dates written as text costs (data/numeric_text.py): per kind of text
column, the median wall time of judging its reading (`detect`, on a sample) and of reading it
(`parse`, every row), next to pandas' own read_csv of the same column as text, per million rows.

    python -m benchmarks.numeric_text_speed --rows 200000 --repeat 3

Timings on a shared machine are noisy: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import numpy as np


def columns(rows: int) -> dict:
    """One text column per kind, as a CSV would write it."""
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.uniform(10, 9000, rows)
    stamps = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, rows), unit="D")
    plain = np.round(x, 2).astype(str).astype(object)
    plain[rng.random(rows) < 0.05] = "?"
    return {
        "numbers with '?' gaps": plain,
        "money '$1,234.56'": [f"${v:,.2f}" for v in x],
        "percent '38.4%'": [f"{v / 100:.1f}%" for v in x],
        "decimal comma '1.234,56'": [f"{v:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".") for v in x],
        "ISO date": stamps.strftime("%Y-%m-%d").tolist(),
        "date-time": stamps.strftime("%Y-%m-%d %H:%M").tolist(),
        "month name '6-Aug-09'": stamps.strftime("%d-%b-%y").tolist(),
        "category 'person 17'": [f"person {i}" for i in rng.integers(0, 1000, rows)],
    }


def median_seconds(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import pandas as pd

    from layerwise.data.numeric_text import detect, parse

    per_million = 1e6 / args.rows
    print(f"{args.rows:,} rows; seconds per million rows (median of {args.repeat})")
    print(f"{'column':28s} {'reading':16s} {'read_csv':>9s} {'detect':>8s} {'parse':>8s}")
    for name, values in columns(args.rows).items():
        text = pd.Series(values).to_csv(index=False)
        read = median_seconds(lambda: pd.read_csv(io.StringIO(text)), args.repeat)
        column = pd.read_csv(io.StringIO(text)).iloc[:, 0]
        reading = detect(column)
        judged = median_seconds(lambda: detect(column), args.repeat)
        parsed = median_seconds(lambda: parse(column, reading), args.repeat) if reading else 0.0
        print(f"{name:28s} {str(reading):16s} {read * per_million:9.2f} {judged * per_million:8.2f} "
              f"{parsed * per_million:8.2f}")


if __name__ == "__main__":
    main()
