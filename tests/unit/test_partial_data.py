"""Every command runs on partial data: the fixture company with each optional table or column left out."""

from __future__ import annotations

import pytest

from analytics.__main__ import main
from tests.partial_data import VARIANTS, import_variant


@pytest.fixture(scope="module")
def variant_dbs(tmp_path_factory):
    base = tmp_path_factory.mktemp("partial")
    return {name: import_variant(base, v) for name, v in VARIANTS.items()}


COMMANDS = {
    "kpis": ["kpis", "--start", "2026-02-01", "--end", "2026-03-31"],
    "kpis_json": ["kpis", "--start", "2026-03-01", "--end", "2026-03-31", "--json"],
    "promise": ["promise", "--sku", "A", "--qty", "5", "--date", "2026-04-20"],
    "promise_json": ["promise", "--sku", "C", "--qty", "500", "--date", "2026-05-20", "--json"],
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_command_runs(variant_dbs, variant, command, capsys):
    rc = main([*COMMANDS[command], "--db", str(variant_dbs[variant])])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "Traceback" not in out.err
