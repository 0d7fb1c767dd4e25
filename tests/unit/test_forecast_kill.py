"""kill -9 during a forecast run: the database is as it was before the run or as it is after it, never between."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from analytics import db

ROOT = Path(__file__).resolve().parents[2]


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(path: Path) -> tuple[int, int, int, int]:
    """(data_version, forecast runs, statistical snapshot rows, leaderboard rows); the file must open cleanly."""
    con = db.open_reader(path)
    try:
        q = lambda sql: con.execute(sql).fetchall()[0][0]  # noqa: E731
        return (db.data_version(con), q("SELECT count(*) FROM forecast_runs"),
                q("SELECT count(*) FROM forecasts WHERE source = 'statistical'"),
                q("SELECT count(*) FROM forecast_leaderboard"))
    finally:
        con.close()


def _run_and_kill(cmd, env, moment) -> bool:
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    buf: list[bytes] = []

    def read():
        while chunk := proc.stderr.read1(4096):
            buf.append(chunk)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    start = time.monotonic()
    if isinstance(moment, float):
        time.sleep(moment)
    else:
        while proc.poll() is None and moment.encode() not in b"".join(buf) and time.monotonic() - start < 300:
            time.sleep(0.002)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)  # the run's main process, the one that writes
    proc.wait()
    try:  # then its orphaned worker processes, so they do not slow down what follows
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    t.join(timeout=5)
    return finished


def test_killed_forecast_run_leaves_old_or_new_database(tmp_path):
    path = tmp_path / "sop.duckdb"
    env = dict(os.environ, PYTHONPATH=str(ROOT), SOP_ACCESS=str(tmp_path / "none.toml"))
    subprocess.run([sys.executable, "-m", "analytics", "demo", "--db", str(path), "--as-of", "2026-10-31", "--data-only"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    old_state, old_hash = _state(path), _hash(path)
    cmd = [sys.executable, "-m", "analytics", "forecast", "--db", str(path), "--workers", "2"]
    outcomes = []
    # fixed delays (starting workers, forecasting), part-way through the series, and inside the write
    for moment in [0.5, 3.0, "forecast 40 of", "writing the snapshot"]:
        finished = _run_and_kill(cmd, env, moment)
        state = _state(path)  # opens: never a broken file
        if _hash(path) == old_hash:
            outcomes.append((moment, "old", finished))
        else:
            # a complete run: one more forecast run, a full snapshot and leaderboard
            assert state[0] == old_state[0] + 1 and state[1] == old_state[1] + 1, (moment, state, old_state)
            assert state[2] > old_state[2] and state[3] > old_state[3], (moment, state, old_state)
            outcomes.append((moment, "new", finished))
            old_state, old_hash = state, _hash(path)
    print("kill outcomes:", outcomes)
    assert sum(o[1] == "old" for o in outcomes) >= 3, outcomes
    # A killed writer may leave its temp file; the next writer removes it under the lock and completes normally.
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    final = _state(path)
    assert final[1] == old_state[1] + 1 and final[2] > 0
    assert not list(path.parent.glob("*.writing")), "leftovers of killed writers are cleaned up"
    # every run that landed took a backup of the database before it
    assert len(list((path.parent / "backups").glob("*.forecast.duckdb"))) >= 1
