"""Time the demo builder: seconds, rows per table, file size and peak memory.

    .venv/bin/python benchmarks/demo_build.py --scale 1
    .venv/bin/python benchmarks/demo_build.py --scale 80 --db /tmp/demo_bench.duckdb
    .venv/bin/python benchmarks/demo_build.py --first-start   # also the first-start story `make run` builds
    .venv/bin/python benchmarks/demo_build.py --smoke         # scale 0.05 in a temporary folder (make test)

Built as the command line does (``access.SYSTEM``, the CLI's admin). ``--first-start`` also times
``demo.first_start`` (the statistical forecast run and last month's summit with its decisions and actions): what
``make run`` (``python -m analytics demo --if-missing``) does on a fresh machine, with the CPU seconds of the
run's worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import access, demo  # noqa: E402


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
    parser.add_argument("--first-start", action="store_true",
                        help="also time the first-start story (forecast run, last month's summit)")
    parser.add_argument("--smoke", action="store_true", help="scale 0.05 in a temporary folder (a quick check)")
    args = parser.parse_args(argv)
    if args.smoke:
        with tempfile.TemporaryDirectory() as tmp:
            args.scale, args.db = 0.05, str(Path(tmp) / "demo_bench.duckdb")
            return run(args)
    return run(args)


def run(args) -> int:
    t0 = time.perf_counter()
    summary = demo.build_demo(args.db, scale=args.scale, seed=args.seed, as_of=args.as_of,
                              progress=None if args.quiet else _progress, user=access.SYSTEM)
    seconds = time.perf_counter() - t0
    story = None
    if args.first_start:
        cpu0 = _cpu()
        t1 = time.perf_counter()
        with access.default_user(access.SYSTEM):
            made = demo.first_start(args.db, progress=None if args.quiet else _progress)
        story = {"seconds": round(time.perf_counter() - t1, 2), "cpu_seconds": round(_cpu() - cpu0, 1),
                 "forecast_run_seconds": made["forecast_run"]["seconds"], "series": made["forecast_run"]["series"]}
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
    if story:
        result["first_start"] = story
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"demo build, scale {args.scale:g}: {seconds:.2f} s, peak RSS {peak_mib:,.0f} MiB, "
          f"file {size / 2**20:,.1f} MiB ({args.db})")
    for name, n in summary["rows"].items():
        print(f"  {name:<12} {n:>12,}")
    if story:
        print(f"first start (forecast run of {story['series']} series, last month's summit, decisions): "
              f"{story['seconds']:.1f} s, {story['cpu_seconds']:.1f} CPU s incl. workers; the run alone "
              f"{story['forecast_run_seconds']:.1f} s")
    return 0


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the forecast workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    sys.exit(main())
