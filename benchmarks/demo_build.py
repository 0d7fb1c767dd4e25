"""Time the demo builder: seconds, rows per table, file size and peak memory.

    .venv/bin/python benchmarks/demo_build.py --scale 1
    .venv/bin/python benchmarks/demo_build.py --scale 80 --db /tmp/demo_bench.duckdb
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import demo  # noqa: E402


def _progress(fraction: float, message: str) -> None:
    sys.stderr.write(f"\r{fraction:5.0%} {message[:60]:<60}")
    if fraction >= 1:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale (80 = ~10 million order lines)")
    parser.add_argument("--db", default="/tmp/demo_bench.duckdb", help="database file to (re)write")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 9, 30), help="as-of date (fixed for comparable runs)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    summary = demo.build_demo(args.db, scale=args.scale, seed=args.seed, as_of=args.as_of,
                              progress=None if args.quiet else _progress)
    seconds = time.perf_counter() - t0
    size = os.path.getsize(args.db)
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    result = {
        "scale": args.scale,
        "seconds": round(seconds, 2),
        "rows": summary["rows"],
        "order_lines_per_second": round(summary["rows"]["orders"] / seconds),
        "file_mib": round(size / 2**20, 1),
        "peak_rss_mib": round(peak_mib, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"demo build, scale {args.scale:g}: {seconds:.2f} s, peak RSS {peak_mib:,.0f} MiB, "
          f"file {size / 2**20:,.1f} MiB ({args.db})")
    for name, n in summary["rows"].items():
        print(f"  {name:<12} {n:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
