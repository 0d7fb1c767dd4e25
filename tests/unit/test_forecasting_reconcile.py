"""Forecast reconciliation (analytics/forecasting/reconcile.py): coherence, MinT by hand, OLS, shrinkage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.forecasting import reconcile as rc


def _two_sku_family() -> rc.Hierarchy:
    # one family F over SKUs A and B: ids (F, A, B); C = [1 1]; S = [[1, 1], [1, 0], [0, 1]]
    return rc.Hierarchy.from_levels(["A", "B"], [["F", "F"]])


def _three_level(rng) -> tuple[rc.Hierarchy, list[str]]:
    skus = [f"S{i:02d}" for i in range(12)]
    fams = [f"family:{'xyz'[i % 3]}" for i in range(12)]
    return rc.Hierarchy.from_levels(skus, [["total"] * 12, fams]), fams


def _dense_S(h: rc.Hierarchy) -> np.ndarray:
    return np.vstack([h.C.toarray(), np.eye(len(h.bottom))])


def test_mint_by_hand_two_skus_one_family():
    # Base forecasts y_hat = (F, A, B) = (10, 4, 3): the family says 10, its SKUs only 7.
    # W = [[4, 1, 1], [1, 2, 0.5], [1, 0.5, 1]] (error covariance, order F, A, B); U = (1, -1, -1)'.
    # U'y_hat = 10 - 4 - 3 = 3.  W U = (4-1-1, 1-2-0.5, 1-0.5-1) = (2, -1.5, -0.5).
    # U'W U = 2 + 1.5 + 0.5 = 4, so z = 3 / 4 = 0.75 and
    # y_tilde = y_hat - W U z = (10 - 1.5, 4 + 1.125, 3 + 0.375) = (8.5, 5.125, 3.375); 5.125 + 3.375 = 8.5.
    h = _two_sku_family()
    W = np.array([[4.0, 1.0, 1.0], [1.0, 2.0, 0.5], [1.0, 0.5, 1.0]])
    got = rc.reconcile(np.array([10.0, 4.0, 3.0]), h, W=W)[:, 0]
    np.testing.assert_allclose(got, [8.5, 5.125, 3.375], rtol=1e-12)
    # the same as the textbook form S (S'W^-1 S)^-1 S'W^-1 y_hat
    S, Wi = _dense_S(h), np.linalg.inv(W)
    np.testing.assert_allclose(got, S @ np.linalg.solve(S.T @ Wi @ S, S.T @ Wi @ [10.0, 4.0, 3.0]), rtol=1e-12)


def test_ols_by_hand_and_equals_the_orthogonal_projection():
    # OLS (W = I) on the 2-SKU example: z = 3 / 3 = 1, y_tilde = (10 - 1, 4 + 1, 3 + 1) = (9, 5, 4).
    h = _two_sku_family()
    np.testing.assert_allclose(rc.reconcile([10.0, 4.0, 3.0], h, "ols")[:, 0], [9.0, 5.0, 4.0])
    # on a 3-level hierarchy: S (S'S)^-1 S' y_hat, for several forecast steps at once
    rng = np.random.default_rng(1)
    h3, _ = _three_level(rng)
    S = _dense_S(h3)
    y = rng.uniform(50, 100, size=(S.shape[0], 4))
    np.testing.assert_allclose(
        rc.reconcile(y, h3, "ols", nonnegative=False), S @ np.linalg.solve(S.T @ S, S.T @ y), rtol=1e-10
    )


@pytest.mark.parametrize("method", rc.METHODS)
def test_every_method_is_exactly_coherent(method):
    rng = np.random.default_rng(7)
    h, fams = _three_level(rng)
    y = rng.uniform(0, 40, size=(len(h.ids), 6))
    y[: h.n_aggregates] *= 6  # aggregates far from the sums of their bottoms
    cov = rc.shrunk_covariance(rng.normal(size=(30, len(h.ids))))
    out = rc.reconcile(y, h, method, cov)
    na = h.n_aggregates
    bottoms = out[na:]
    assert (bottoms >= 0).all()
    total = out[h.aggregates.index("total")]
    np.testing.assert_allclose(total, bottoms.sum(axis=0), rtol=1e-12)
    for fam in sorted(set(fams)):
        members = [i for i, f in enumerate(fams) if f == fam]
        fam_row = out[h.aggregates.index(fam)]
        np.testing.assert_allclose(fam_row, bottoms[members].sum(axis=0), rtol=1e-12)
    fam_rows = [h.aggregates.index(f) for f in sorted(set(fams))]
    np.testing.assert_allclose(out[fam_rows].sum(axis=0), total, rtol=1e-12)  # families sum to the total


def _hts_lambda(E: np.ndarray) -> float:
    """The MinT paper's shrink.estim, dense (n x n): the reference the factored version must match."""
    T = E.shape[0]
    covm = E.T @ E / T
    sd = np.sqrt(np.diag(covm))
    corm = covm / np.outer(sd, sd)
    xs = E / sd
    v = (xs**2).T @ (xs**2) / (T * (T - 1)) - ((xs.T @ xs) ** 2) / (T**2 * (T - 1))
    np.fill_diagonal(v, 0.0)
    d = corm**2
    np.fill_diagonal(d, 0.0)
    return float(np.clip(v.sum() / d.sum(), 0, 1))


def test_shrinkage_intensity_in_unit_interval_and_matches_dense_formula():
    rng = np.random.default_rng(3)
    common = rng.normal(size=(40, 1))
    for strength in (0.0, 0.5, 3.0):
        E = rng.normal(size=(40, 25)) + strength * common
        cov = rc.shrunk_covariance(E)
        assert 0.0 <= cov.lambda_ <= 1.0
        assert cov.lambda_ == pytest.approx(_hts_lambda(E), rel=1e-9)
        # W = lambda D + (1 - lambda) E'E / T
        dense = E.T @ E / 40
        W = cov.lambda_ * np.diag(np.diag(dense)) + (1 - cov.lambda_) * dense
        np.testing.assert_allclose(cov.dense(), W, rtol=1e-9, atol=1e-12)
    # strongly correlated errors shrink less than independent ones
    weak = rc.shrunk_covariance(rng.normal(size=(40, 25))).lambda_
    strong = rc.shrunk_covariance(rng.normal(size=(40, 25)) + 3 * rng.normal(size=(40, 1))).lambda_
    assert strong < weak


def test_factored_mint_equals_dense_mint():
    rng = np.random.default_rng(5)
    h, _ = _three_level(rng)
    E = rng.normal(size=(20, len(h.ids))) * rng.uniform(1, 5, len(h.ids))
    cov = rc.shrunk_covariance(E)
    y = rng.uniform(10, 30, size=(len(h.ids), 3))
    np.testing.assert_allclose(
        rc.reconcile(y, h, "mint_shrink", cov, nonnegative=False),
        rc.reconcile(y, h, cov=cov, nonnegative=False, W=cov.dense()),
        rtol=1e-8,
    )


@pytest.mark.parametrize("method", ["mint_shrink", "ols", "bottom_up"])
def test_reconciled_std_equals_dense_covariance(method):
    rng = np.random.default_rng(11)
    h, _ = _three_level(rng)
    n = len(h.ids)
    cov = rc.shrunk_covariance(rng.normal(size=(25, n)) + rng.normal(size=(25, 1)))
    s = rng.uniform(1, 4, size=n)
    R = cov.corr_times(np.eye(n))
    Sigma = s[:, None] * R * s[None, :]
    S = _dense_S(h)
    na = h.n_aggregates
    if method == "bottom_up":
        M = S @ np.hstack([np.zeros((len(h.bottom), na)), np.eye(len(h.bottom))])
    else:
        W = cov.dense() if method == "mint_shrink" else np.eye(n)
        Wi = np.linalg.inv(W)
        M = S @ np.linalg.solve(S.T @ Wi @ S, S.T @ Wi)
    want = np.sqrt(np.diag(M @ Sigma @ M.T))
    got = rc.reconciled_std(s[:, None], h, method, cov)[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-8)


def test_reconcile_forecasts_frames():
    # 2 SKUs, 1 family, 1 total; the family's base keeps a peak that the SKU forecasts lack
    h = rc.Hierarchy.from_levels(["A", "B"], [["total", "total"], ["family:F", "family:F"]])
    rows = []
    for uid, means in {"total": [30, 60], "family:F": [30, 60], "A": [10, 10], "B": [10, 10]}.items():
        for step, m in enumerate(means, start=1):
            rows.append(
                {
                    "unique_id": uid,
                    "step": step,
                    "mean": m,
                    "lo80": m * 0.8,
                    "hi80": m * 1.2,
                    "lo95": m * 0.7,
                    "hi95": m * 1.3,
                }
            )
    base = pd.DataFrame(rows)
    rng = np.random.default_rng(2)
    res = pd.DataFrame(
        [
            {"unique_id": u, "key": k, "error": rng.normal() * sc}
            for k in range(12)
            for u, sc in (("total", 5), ("family:F", 5), ("A", 2), ("B", 2))
        ]
    )
    out, info = rc.reconcile_forecasts(base, h, res)
    assert info["method"] == "mint_shrink" and 0 <= info["lambda"] <= 1 and info["n_samples"] == 12
    wide = out.pivot(index="step", columns="unique_id", values="mean")
    np.testing.assert_allclose(wide["A"] + wide["B"], wide["family:F"])
    np.testing.assert_allclose(wide["family:F"], wide["total"])
    assert wide.loc[2, "total"] > wide.loc[1, "total"] + 10  # the peak survives the reconciliation
    assert (out["lo95"] <= out["lo80"]).all() and (out["lo80"] <= out["mean"]).all()
    assert (out["mean"] <= out["hi80"]).all() and (out["hi80"] <= out["hi95"]).all()
    # never narrower than the base interval: base 80% half-width = 0.2 m (lo80 = 0.8 m, hi80 = 1.2 m)
    half = (out["hi80"] - out["mean"]).to_numpy()
    base_half = 0.2 * base.set_index(["unique_id", "step"]).loc[list(zip(out["unique_id"], out["step"])), "mean"]
    assert (half >= base_half.to_numpy() - 1e-9).all()
    # and it contains the base interval
    both = out.merge(base, on=["unique_id", "step"], suffixes=("", "_base"))
    for lv in (80, 95):
        assert (both[f"lo{lv}"] <= both[f"lo{lv}_base"] + 1e-12).all()
        assert (both[f"hi{lv}"] >= both[f"hi{lv}_base"] - 1e-12).all()
    # without residuals the variance-based methods fall back to structural weights, and say so
    _, info2 = rc.reconcile_forecasts(base, h, None)
    assert info2["method"] == "wls_struct" and info2["notes"]


def test_a_series_with_zero_error_variance_keeps_its_base_forecast_exactly():
    # Family F over A (active) and Z (inactive: forecast 0, zero-width interval, no backtest errors). MinT with
    # W_ZZ = 0 leaves Z at 0 (its row of W U is 0) and puts the whole gap on A: base (F, A, Z) = (10, 6, 0),
    # errors of F and A with variance 4 and 1, uncorrelated -> W = diag(4, 1, 0); U'y = 10 - 6 - 0 = 4,
    # W U = (4, -1, 0), K = 5, z = 0.8 -> (10 - 3.2, 6 + 0.8, 0) = (6.8, 6.8, 0).
    h = rc.Hierarchy.from_levels(["A", "Z"], [["F", "F"]])
    cov = rc.ShrunkCovariance(np.array([2.0, 1.0, 0.0]), np.zeros((4, 3)), 1.0)
    got = rc.reconcile(np.array([10.0, 6.0, 0.0]), h, "mint_shrink", cov)[:, 0]
    assert got[2] == 0.0  # exactly: not the 1e-9 floor's tiny share of the gap
    np.testing.assert_allclose(got, [6.8, 6.8, 0.0], rtol=1e-6)
    sd = rc.reconciled_std(np.array([2.0, 1.0, 0.0]), h, "mint_shrink", cov)[:, 0]
    assert sd[2] == 0.0
    # ... even where the floor alone would have moved Z (base Z = 0 with a gap that pulls the others down)
    got = rc.reconcile(np.array([2.0, 6.0, 0.0]), h, "mint_shrink", cov, nonnegative=False)[:, 0]
    assert got[2] == 0.0 and got[0] == pytest.approx(got[1])


def test_scaling_aggregate_variances_trusts_the_family_more():
    # 2-SKU example with W = diag(1, 1, 1): MinT gives F = 9 (see the OLS case). With the family's variance
    # scaled by 0.5: W = diag(0.5, 1, 1), U'WU = 2.5, z = 3 / 2.5 = 1.2, F = 10 - 0.5 x 1.2 = 9.4,
    # A = 4 + 1.2 = 5.2, B = 3 + 1.2 = 4.2.
    h = _two_sku_family()
    cov = rc.ShrunkCovariance(np.ones(3), np.zeros((0, 3)), 1.0)  # unit variances, no correlation
    np.testing.assert_allclose(rc.reconcile([10.0, 4.0, 3.0], h, "mint_shrink", cov)[:, 0], [9.0, 5.0, 4.0])
    scaled = rc.scale_aggregates(cov, h, 0.5)
    np.testing.assert_allclose(rc.reconcile([10.0, 4.0, 3.0], h, "mint_shrink", scaled)[:, 0], [9.4, 5.2, 4.2])
    assert rc.scale_aggregates(cov, h, 1.0) is cov


def test_reconcile_run_aligns_backtest_errors_by_calendar_month():
    from datetime import date

    from analytics.forecasting.batch import SeriesResult
    from analytics.kpis import add_months

    def result(uid, first, cutoffs, scale):
        f = pd.DataFrame({"step": [1, 2], "mean": [10.0, 12.0]})
        for lv, w in ((80, 0.2), (95, 0.3)):
            f[f"lo{lv}"], f[f"hi{lv}"] = f["mean"] * (1 - w), f["mean"] * (1 + w)
        bt = pd.DataFrame(
            {
                "cutoff": np.repeat(cutoffs, 2),
                "step": np.tile([1, 2], len(cutoffs)),
                "y": scale * np.arange(1.0, 2 * len(cutoffs) + 1),
                "model": "ETS",
                "forecast": 0.0,
            }
        )
        return SeriesResult(uid, True, "smooth", "ETS", "", f, None, bt), [add_months(first, i) for i in range(30)]

    # A starts in Jan 2024, B in Jan 2025: B's cutoff 5 and A's cutoff 17 are the same month (June 2025)
    a, ma = result("A", date(2024, 1, 1), [17, 20], 1.0)
    b, mb = result("B", date(2025, 1, 1), [5, 8], 2.0)
    f, mf = result("family:F", date(2024, 1, 1), [17, 20], 3.0)
    t, mt = result("total:all", date(2024, 1, 1), [17, 20], 3.0)
    out, info = rc.reconcile_run(
        [a, b, f, t],
        {"A": "F", "B": "F"},
        {"A": ma, "B": mb, "family:F": mf, "total:all": mt},
        total_id="total:all",
        family_prefix="family:",
    )
    assert info["n_samples"] == 4  # 2 origins x 2 steps, shared by all four series
    wide = out.pivot(index="step", columns="unique_id", values="mean")
    np.testing.assert_allclose(wide["A"] + wide["B"], wide["family:F"])
    np.testing.assert_allclose(wide["family:F"], wide["total:all"])
