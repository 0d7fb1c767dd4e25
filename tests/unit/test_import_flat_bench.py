"""The flat-export import benchmark's smoke size runs (so that it cannot break unseen) and prints its figures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_flat_smoke(capsys, tmp_path):
    spec = importlib.util.spec_from_file_location("import_flat", ROOT / "benchmarks" / "import_flat.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--smoke", "--keep", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "export: 20,000 lines" in out and "rows: customers 400, products 100, orders 20,000" in out
    assert "stages: reading" in out
