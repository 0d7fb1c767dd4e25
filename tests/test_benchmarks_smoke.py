"""Every benchmark runs at its smoke size, so none can break unseen (they stopped with PermissionDenied once
access control landed, and nothing noticed). The full sizes stay manual: see each script's docstring.

Each script runs as `python benchmarks/NAME.py --smoke` in its own process, as a person runs it; the test
checks that it ends cleanly and prints its figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

#: script -> text its smoke run must print (one of its figures' labels)
SMOKE = {
    "kpi_queries.py": "slowest KPI median",
    "demo_build.py": "demo build, scale 0.05",
    "plan_scale.py": "optimised: total (build+solve+eval)",
    "m3_monthly.py": "auto ",
    "load.py": "=== summary",
    "browser_tab_cost.py": "machine cpu-s",
    "forecast_scale.py": "full run_forecast on the demo",
    "forecast_suite.py": "",
    "reconcile_eval.py": "",
    "import_flat.py": "stages: reading",
    "forecast_overhead.py": "identical: CSV files",
}


def test_every_benchmark_has_a_smoke_run():
    scripts = {p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(SMOKE), f"benchmarks without a smoke run here: {sorted(scripts - set(SMOKE))}"
    for name in scripts:
        assert "--smoke" in (BENCHMARKS / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_benchmark_smoke_run(name, tmp_path):
    env = dict(os.environ, SOP_ACCESS=str(tmp_path / "no-access-file.toml"), PYTHONUNBUFFERED="1")
    out = subprocess.run([sys.executable, str(BENCHMARKS / name), "--smoke"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    tail = (out.stdout[-3000:] + "\n--- stderr ---\n" + out.stderr[-3000:])
    assert out.returncode == 0, tail
    assert "Traceback" not in out.stderr, tail
    assert SMOKE[name] in out.stdout, tail
