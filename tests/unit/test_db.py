"""The one writer path: all-or-nothing writes, readers undisturbed, clear messages for bad files."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from analytics import access, db, kpis


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_failed_write_leaves_the_file_byte_for_byte(tiny_db):
    before = digest(tiny_db)
    with pytest.raises(RuntimeError):
        with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db) as con:
            con.execute("DELETE FROM orders")
            raise RuntimeError("crash in the middle")
    assert digest(tiny_db) == before
    assert not list(tiny_db.parent.glob("*.writing")), "no temporary file left behind"


def test_reader_keeps_its_snapshot_while_a_writer_lands(tiny_db):
    reader = db.open_reader(tiny_db)
    assert db.data_version(reader) == 1
    with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db) as con:
        con.execute("DELETE FROM surveys")
    # The open reader still sees the file it opened; a new reader sees the new version.
    assert reader.execute("SELECT count(*) FROM surveys").fetchone()[0] == 7
    fresh = db.open_reader(tiny_db)
    assert fresh.execute("SELECT count(*) FROM surveys").fetchone()[0] == 0
    assert db.data_version(fresh) == 2
    assert db.version_key(tiny_db) != (0, 0, 0)


def test_replace_all_keeps_targets(tiny_db):
    with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db) as con:
        kpis.set_targets(con, {"nps": (30.0, 5.0)})
    with access.acting_as(access.SYSTEM, "import"), db.writer(tiny_db, fresh=True) as con:
        con.execute("INSERT INTO products VALUES ('Z', 'z', 'F', 1, 2, 'W', 1)")
    con = db.open_reader(tiny_db)
    assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    assert kpis.targets(con)["nps"] == (30.0, 5.0)
    # Fixture write = 1, targets = 2, replace-all = 3: the version keeps counting, caches never see an old number.
    assert db.data_version(con) == 3


def test_missing_corrupt_and_foreign_files_say_what_to_do(tmp_path):
    with pytest.raises(db.DatabaseError, match="python -m analytics demo"):
        db.open_reader(tmp_path / "none.duckdb")
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(db.DatabaseError, match="not a readable DuckDB database|Cannot open"):
        db.open_reader(bad)
    other = tmp_path / "other.duckdb"
    c = duckdb.connect(str(other))
    c.execute("CREATE TABLE x (a INT)")
    c.close()
    with pytest.raises(db.DatabaseError, match="not an S&OP dashboard database"):
        db.open_reader(other)


def test_newer_schema_is_refused(tiny_db):
    c = duckdb.connect(str(tiny_db))
    c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    c.close()
    with pytest.raises(db.DatabaseError, match="newer version"):
        db.open_reader(tiny_db)


def test_a_file_locked_by_another_program_says_so(tiny_db):
    import subprocess
    import sys

    # Another program (here: a DuckDB session opened read-write, as the DuckDB CLI does) holds the file's lock.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "time.sleep(60)", str(tiny_db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(db.DatabaseError, match="locked by another program.*Close it and retry"):
            db.open_reader(tiny_db)
    finally:
        holder.kill()
        holder.wait()
    db.open_reader(tiny_db).close()  # free again


def test_leaderboards_stored_in_percent_are_converted_once(tmp_path):
    """sMAPE was stored in percent (and shown x 100 again); a file from before is converted once, on its next write."""
    import duckdb

    from analytics import access, db

    path = tmp_path / "old.duckdb"
    with access.acting_as(access.SYSTEM, "import"), db.writer(path) as con:
        con.execute("INSERT INTO forecast_leaderboard (run_id, unique_id, model, smape) VALUES (1, 'A', 'ets', 0.25)")
    raw = duckdb.connect(str(path))
    raw.execute("DELETE FROM meta WHERE key = 'smape_unit'")  # as written by the old version ...
    raw.execute("UPDATE forecast_leaderboard SET smape = 25.0")  # ... in percent
    raw.close()
    for _ in range(2):  # two writes: converted by the first only
        with access.acting_as(access.SYSTEM, "import"), db.writer(path):
            pass
    assert db.open_reader(path).execute("SELECT smape FROM forecast_leaderboard").fetchone()[0] == 0.25
