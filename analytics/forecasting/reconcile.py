"""Forecast reconciliation: make SKU, family and total forecasts add up (MinT, OLS, WLS, bottom-up).

Every level is forecast on its own by the automatic engine (the *base* forecasts ``y_hat``: one row per
series, aggregates first). Base forecasts are not coherent: the family's own forecast keeps a Q4 peak that
the sum of its sparse SKU forecasts loses. Reconciliation finds the coherent forecasts (bottom series sum to
every aggregate) closest to all the base forecasts at once, weighted by how good each base forecast is.

Notation (Wickramasuriya, Athanasopoulos & Hyndman 2019, "Optimal forecast reconciliation ... through trace
minimization"): ``m`` bottom series, ``na`` aggregates, ``n = na + m``; the aggregation matrix ``C``
(``na x m``, 0/1: which bottoms make each aggregate), ``S = [C; I_m]``, ``U' = [I_na, -C]`` so that a
forecast ``y`` is coherent exactly when ``U'y = 0``. With ``W`` the covariance of the base forecast errors,
MinT is the oblique projection onto the coherent subspace::

    y_tilde = y_hat - W U (U' W U)^-1 U' y_hat        (= S (S' W^-1 S)^-1 S' W^-1 y_hat)

Methods (``METHODS``): ``mint_shrink`` (W = Schafer-Strimmer shrinkage of the error covariance towards its
diagonal, as ``hts::MinT(covariance="shr")`` and hierarchicalforecast's ``MinTrace(method="mint_shrink")``),
``wls_var`` (W = the diagonal of error variances), ``wls_struct`` (W = diag(S 1): every series weighted by how
many bottoms it holds), ``ols`` (W = I) and ``bottom_up`` (the aggregates are the sums of the bottoms).

Why this scales to thousands of SKUs: the projection form needs only ``U'WU``, an ``na x na`` matrix (1 +
the number of families), never an ``n x n`` inverse. The shrinkage covariance is never formed either: from
``T`` residual vectors it is ``W = diag(w) + L'L`` with ``L`` of shape ``T x n`` (diagonal plus rank T), and
the Schafer-Strimmer intensity comes from the ``T x T`` Gram matrix of the standardised residuals
(sum over pairs of squared correlations = ||Z Z'||_F^2 minus the diagonal terms). Time and memory are
O(n (T + na)) per forecast step; 10,000 SKUs in 30 families with T = 54 residuals and 18 months take
1.9 s and 29 MiB at peak for means and intervals (a dense n x n W alone would be 800 MB). No size falls back to a diagonal method; ``wls_var`` is there to choose explicitly.

Residuals: the base forecast errors (actual - forecast) of each series' chosen model in the engine's
rolling-origin backtest (out of sample, every origin and step pooled), aligned across series by origin and
target month; a series lacks the windows its shorter history could not backtest. Its variance comes from its
own errors, its correlations count the missing entries as 0 (shrinking them towards 0). A series without any
backtest (new or inactive items) takes the variance implied by its base 80% interval at step 1.

Negative demand: reconciled SKU forecasts below 0 are set to 0 and the levels above are summed again
(coherent, not exactly optimal). Intervals: normal, ``mean +/- z sigma`` clipped at 0, where ``sigma`` is
the larger of the series' base spread (from its base 80% interval) and ``sigma_tilde``, the standard deviation
of the reconciled forecast: ``diag(M Sigma_h M')`` with ``M`` the reconciliation map and ``Sigma_h`` built from
the base spreads at step h and the shrunk error correlations (as hierarchicalforecast's ``Normality``
intervals); and each interval is widened to contain the series' own base interval. ``sigma_tilde`` alone is too
narrow: on the development sets of benchmarks/reconcile_eval.py its 80% intervals covered 63-67% at the family
and total levels of the Superstore export; with the base spread as a floor, 82-89%. A symmetric normal interval
also misplaces a sparse product's (whose base interval runs from 0 to an error quantile): 55% at the Superstore
product level, 88% once it contains the base interval (which covers 87%), for intervals 1.7 times as wide as the
base ones there. (Shifting the base intervals by the reconciliation's change of the mean was worse: 37-53%.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

__all__ = [
    "METHODS",
    "Hierarchy",
    "ShrunkCovariance",
    "reconcile",
    "reconcile_forecasts",
    "reconcile_run",
    "reconciled_std",
    "scale_aggregates",
    "shrunk_covariance",
    "sigma_from_interval",
]

METHODS = ("mint_shrink", "wls_var", "wls_struct", "ols", "bottom_up")
Z80, Z95 = 1.2815515655446004, 1.959963984540054  # standard normal quantiles of 0.9 and 0.975


# --------------------------------------------------------------------------------------- the hierarchy


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """Aggregates over bottom series. ``ids`` = aggregates (in ``levels`` order) then the bottoms.

    ``C``: sparse ``na x m`` aggregation matrix (C[a, j] = 1 when bottom j belongs to aggregate a).
    """

    aggregates: tuple[str, ...]
    bottom: tuple[str, ...]
    C: sp.csr_matrix

    @classmethod
    def from_levels(cls, bottom: Sequence[str], levels: Sequence[Sequence[str]]) -> Hierarchy:
        """``levels``: one sequence per aggregate level, giving each bottom series' aggregate there, e.g.
        ``[["total"] * m, family_of_each_sku]``. Aggregate names must be unique across levels and bottoms."""
        bottom = tuple(str(b) for b in bottom)
        m = len(bottom)
        rows, cols, names = [], [], []
        for labels in levels:
            labels = [str(x) for x in labels]
            if len(labels) != m:
                raise ValueError("every level needs one label per bottom series")
            uniq = sorted(set(labels))
            index = {lab: len(names) + i for i, lab in enumerate(uniq)}
            names.extend(uniq)
            rows.extend(index[lab] for lab in labels)
            cols.extend(range(m))
        if len(set(names)) != len(names) or set(names) & set(bottom):
            raise ValueError("aggregate names must be unique across levels and differ from the bottom ids")
        C = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(names), m))
        return cls(tuple(names), bottom, C)

    @property
    def ids(self) -> tuple[str, ...]:
        return self.aggregates + self.bottom

    @property
    def n_aggregates(self) -> int:
        return len(self.aggregates)

    def aggregate(self, bottom_values: np.ndarray) -> np.ndarray:
        """Stack the aggregates (C b) over the bottoms: all ``n`` series, in ``ids`` order."""
        b = np.asarray(bottom_values, dtype=float)
        return np.vstack([self.C @ b, b])

    def structural_weights(self) -> np.ndarray:
        """diag(S 1): how many bottom series each series holds."""
        return np.concatenate([np.asarray(self.C.sum(axis=1)).ravel(), np.ones(len(self.bottom))])


# --------------------------------------------------------------------------------------- covariance


@dataclass(frozen=True, eq=False)
class ShrunkCovariance:
    """Schafer-Strimmer shrinkage estimate ``W = lambda * D + (1 - lambda) * Sigma_hat`` in factored form.

    ``sigma``: per-series error standard deviation (sqrt of D); ``Z``: ``T x n`` standardised residuals
    (missing = 0); ``lambda_``: shrinkage intensity in [0, 1]. The correlation matrix is
    ``R = diag(r_diag) + (1 - lambda) Z'Z / T`` with ``r_diag`` making its diagonal 1.
    """

    sigma: np.ndarray
    Z: np.ndarray
    lambda_: float

    @property
    def n_samples(self) -> int:
        return self.Z.shape[0]

    @property
    def r_diag(self) -> np.ndarray:
        T = max(self.n_samples, 1)
        d = (self.Z**2).sum(axis=0) / T
        return self.lambda_ + (1.0 - self.lambda_) * (1.0 - d)

    def corr_times(self, X: np.ndarray) -> np.ndarray:
        """R @ X without forming R (n x k in, n x k out)."""
        T = max(self.n_samples, 1)
        out = self.r_diag[:, None] * X
        if self.lambda_ < 1.0 and self.Z.size:
            out += (1.0 - self.lambda_) / T * (self.Z.T @ (self.Z @ X))
        return out

    def dense(self) -> np.ndarray:
        """W as a dense ``n x n`` matrix (small problems and tests only)."""
        R = self.corr_times(np.eye(self.sigma.size))
        return self.sigma[:, None] * R * self.sigma[None, :]


def shrunk_covariance(residuals: ArrayLike, sigma_fallback: ArrayLike | None = None) -> ShrunkCovariance:
    """Schafer-Strimmer shrinkage of the error covariance towards its diagonal.

    ``residuals``: ``T x n`` errors (NaN = missing). Second moments are uncentred, as in the MinT paper's
    ``shrink.estim`` (forecast errors should have mean 0): ``Sigma_hat = E'E / T``. With ``Zs`` the errors
    divided by their standard deviation, ``w_ij(t) = z_ti z_tj`` and ``r_ij`` = mean of ``w_ij``, the
    intensity is ``lambda = sum_{i != j} Var(r_ij) / sum_{i != j} r_ij^2`` clipped to [0, 1], with
    ``Var(r_ij) = 1 / (T (T - 1)) * (sum_t w_ij(t)^2 - T r_ij^2)``. Both sums are computed from the T x T
    Gram matrix (O(n T^2)), not from the n x n correlation matrix.

    A series with no residual (all NaN) takes ``sigma_fallback`` (else 0) and no correlation.
    """
    E = np.asarray(residuals, dtype=float)
    if E.ndim != 2:
        raise ValueError("residuals must be a T x n matrix")
    T, n = E.shape
    ok = np.isfinite(E)
    Ez = np.where(ok, E, 0.0)
    counts = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(counts > 0, (Ez**2).sum(axis=0) / np.maximum(counts, 1), np.nan)
    sigma = np.sqrt(var)
    fallback = np.zeros(n) if sigma_fallback is None else np.asarray(sigma_fallback, dtype=float)
    sigma = np.where(np.isfinite(sigma), sigma, np.nan_to_num(fallback))
    usable = (counts > 0) & (sigma > 0)
    Z = np.zeros_like(Ez)
    Z[:, usable] = Ez[:, usable] / sigma[usable]
    if T < 2 or usable.sum() < 2:
        return ShrunkCovariance(sigma, Z, 1.0)
    # sum_{i != j} r_ij^2, with r = Z'Z / T: ||Z'Z||_F^2 = ||Z Z'||_F^2 (T x T), minus the diagonal
    G = Z @ Z.T
    col_sq = (Z**2).sum(axis=0)  # sum_t z_ti^2 per series
    off_r2 = ((G**2).sum() - (col_sq**2).sum()) / T**2
    # sum_{i != j} sum_t w_ij(t)^2 = sum_t (sum_i z_ti^2)^2 - sum_i sum_t z_ti^4
    row_sq = (Z**2).sum(axis=1)
    off_w2 = (row_sq**2).sum() - (Z**4).sum()
    off_var = (off_w2 - T * off_r2) / (T * (T - 1))
    lam = 1.0 if off_r2 <= 0 else float(np.clip(off_var / off_r2, 0.0, 1.0))
    return ShrunkCovariance(sigma, Z, lam)


def sigma_from_interval(mean: ArrayLike, lo80: ArrayLike, hi80: ArrayLike) -> np.ndarray:
    """Standard deviation implied by an 80% interval: (hi - lo) / (2 z), or (hi - mean) / z when the lower
    bound was clipped at 0."""
    mean, lo, hi = (np.asarray(a, dtype=float) for a in (mean, lo80, hi80))
    two_sided = (hi - lo) / (2 * Z80)
    upper = (hi - mean) / Z80
    out = np.where(lo > 0, two_sided, upper)
    return np.clip(np.nan_to_num(out), 0.0, None)


# --------------------------------------------------------------------------------------- reconciliation


class _Weights:
    """W = diag(w) + L'L (L: k x n, k may be 0).

    A series whose error variance is 0 (an inactive item: forecast 0, no backtest, a zero-width interval) gets a
    tiny weight instead (``1e-9`` of the largest), so that ``K`` stays invertible; ``exact`` marks those series.
    MinT leaves such a series exactly at its base forecast (its row of W U is 0), so ``reconcile`` and
    ``reconciled_std`` put them back there rather than keep the floor's tiny adjustment (a 0.00001-unit
    forecast with a fan, on 615 of the Superstore export's products before this).
    """

    def __init__(self, w: np.ndarray, L: np.ndarray | None = None):
        raw = np.asarray(w, dtype=float)
        floor = 1e-9 * max(float(np.max(raw)) if raw.size else 1.0, 1e-12)
        self.w = np.maximum(raw, floor)
        self.L = np.zeros((0, self.w.size)) if L is None else L
        no_l = ~np.any(self.L != 0.0, axis=0) if self.L.size else np.ones(self.w.size, dtype=bool)
        self.exact = (raw <= 0.0) & no_l

    def times(self, X: np.ndarray) -> np.ndarray:
        out = self.w[:, None] * X
        if self.L.size:
            out += self.L.T @ (self.L @ X)
        return out


def _weights(method: str, h: Hierarchy, cov: ShrunkCovariance | None) -> _Weights:
    n = len(h.ids)
    if method == "ols":
        return _Weights(np.ones(n))
    if method == "wls_struct":
        return _Weights(h.structural_weights())
    if cov is None:
        raise ValueError(f"method {method!r} needs residuals (a ShrunkCovariance)")
    if method == "wls_var":
        return _Weights(cov.sigma**2)
    if method == "mint_shrink":
        T = max(cov.n_samples, 1)
        w = cov.sigma**2 * cov.r_diag
        L = np.sqrt((1.0 - cov.lambda_) / T) * cov.Z * cov.sigma[None, :]
        return _Weights(w, L)
    raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")


def _dense_weights(W: ArrayLike) -> _Weights:
    """A dense positive definite W as 0 + L'L (L = its Cholesky factor, transposed)."""
    W = np.asarray(W, dtype=float)
    return _Weights(np.zeros(W.shape[0]), np.linalg.cholesky(W).T)


def _u(h: Hierarchy, X: np.ndarray) -> np.ndarray:
    """U X for X of shape na x k: [X; -C' X]."""
    return np.vstack([X, -(h.C.T @ X)])


def _ut(h: Hierarchy, Y: np.ndarray) -> np.ndarray:
    """U' Y for Y of shape n x k: Y_agg - C Y_bottom."""
    na = h.n_aggregates
    return Y[:na] - h.C @ Y[na:]


@dataclass(frozen=True, eq=False)
class _Projection:
    """The pieces of y_tilde = y_hat - W U K^-1 U' y_hat, K = U'WU."""

    h: Hierarchy
    W: _Weights
    WU: np.ndarray  # n x na
    K: np.ndarray  # na x na

    @classmethod
    def build(cls, h: Hierarchy, W: _Weights) -> _Projection:
        WU = W.times(_u(h, np.eye(h.n_aggregates)))
        K = _ut(h, WU)
        return cls(h, W, WU, 0.5 * (K + K.T))

    def apply(self, Y: np.ndarray) -> np.ndarray:
        z = np.linalg.solve(self.K, _ut(self.h, Y))
        return Y - self.WU @ z


def reconcile(
    base: ArrayLike,
    h: Hierarchy,
    method: str = "mint_shrink",
    cov: ShrunkCovariance | None = None,
    nonnegative: bool = True,
    W: ArrayLike | None = None,
) -> np.ndarray:
    """Coherent forecasts for every series (``ids`` order) from the base forecasts ``base`` (n x H).

    ``W``: a dense ``n x n`` error covariance to use instead of ``method``'s (small problems, tests).

    The bottom rows of the result are the reconciled bottoms (clipped at 0 with ``nonnegative``), the
    aggregate rows are their sums (``C b``), so the result is coherent by construction.
    """
    Y = np.asarray(base, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != len(h.ids):
        raise ValueError(f"base has {Y.shape[0]} rows; the hierarchy has {len(h.ids)} series")
    na = h.n_aggregates
    if method == "bottom_up":
        b = Y[na:]
    else:
        weights = _weights(method, h, cov) if W is None else _dense_weights(W)
        b = _Projection.build(h, weights).apply(Y)[na:]
        exact = weights.exact[na:]
        b[exact] = Y[na:][exact]  # zero error variance: MinT keeps the base forecast (see _Weights)
    if nonnegative:
        b = np.clip(b, 0.0, None)
    return h.aggregate(b)


def reconciled_std(
    base_sigma: ArrayLike, h: Hierarchy, method: str = "mint_shrink", cov: ShrunkCovariance | None = None
) -> np.ndarray:
    """Standard deviation of the reconciled forecasts (n x H) from the base spreads ``base_sigma`` (n x H).

    Per step: Sigma_h = D_h^1/2 R D_h^1/2 (R: the shrunk error correlation of ``cov``, else independence),
    and the reconciled covariance is M Sigma_h M' with M = S J (bottom-up) or I - W U K^-1 U' (projections);
    only its diagonal is computed, in O(n (T + na)) per step.
    """
    Sg = np.asarray(base_sigma, dtype=float)
    if Sg.ndim == 1:
        Sg = Sg[:, None]
    na = h.n_aggregates
    U = _u(h, np.eye(na))  # n x na (dense: na is small)

    def corr_times(X: np.ndarray) -> np.ndarray:
        return cov.corr_times(X) if cov is not None else X

    out = np.empty_like(Sg)
    weights = None if method == "bottom_up" else _weights(method, h, cov)
    proj = None if weights is None else _Projection.build(h, weights)
    Kinv = None if proj is None else np.linalg.inv(proj.K)
    for k in range(Sg.shape[1]):
        s = Sg[:, k]
        if proj is None:
            # bottoms keep their variance; aggregate a: c_a' Sigma_bb c_a with c_a its 0/1 row of C
            X = np.zeros((len(h.ids), na))
            X[na:] = h.C.T.toarray() * s[na:, None]
            agg_var = np.einsum("ij,ij->j", X[na:], corr_times(X)[na:])
            var = np.concatenate([agg_var, s[na:] ** 2])
        else:
            SU = s[:, None] * corr_times(s[:, None] * U)  # Sigma U, n x na
            B = Kinv @ SU.T  # na x n
            term2 = np.einsum("ij,ji->i", proj.WU, B)
            Q = Kinv @ (U.T @ SU) @ Kinv
            term3 = np.einsum("ij,ij->i", proj.WU @ Q, proj.WU)
            var = s**2 - 2 * term2 + term3
            var[weights.exact] = s[weights.exact] ** 2  # their row of M is e_i (see _Weights)
        out[:, k] = np.sqrt(np.clip(var, 0.0, None))
    return out


# --------------------------------------------------------------------------------------- frames


def scale_aggregates(cov: ShrunkCovariance, h: Hierarchy, factor: float) -> ShrunkCovariance:
    """The same estimate with the aggregates' error variances multiplied by ``factor`` (correlations kept).

    ``factor < 1`` trusts the family and total forecasts more. Why it can be needed: shrinking the SKU
    error correlations towards 0 understates the error variance of a sum of many SKUs (their errors are
    mostly positively correlated: a seasonal peak they all miss), so plain MinT leans too much on the sum of
    the SKUs; scaling the aggregates' variances down restores the balance."""
    if factor == 1.0:
        return cov
    na = h.n_aggregates
    return replace(cov, sigma=np.concatenate([cov.sigma[:na] * np.sqrt(factor), cov.sigma[na:]]))


def reconcile_forecasts(
    base: pd.DataFrame,
    h: Hierarchy,
    residuals: pd.DataFrame | None = None,
    method: str = "mint_shrink",
    aggregate_scale: float = 1.0,
) -> tuple[pd.DataFrame, dict]:
    """Reconcile long base forecasts (with intervals) over the hierarchy.

    ``base``: one row per series x step: unique_id, step, mean, lo80, hi80, lo95, hi95 (every id of ``h``;
    a missing aggregate is filled with the sum of its bottoms, a missing bottom with 0). ``residuals``: one
    row per series x sample key (e.g. origin and target month): unique_id, key, error; None = no residuals
    (then ``mint_shrink`` and ``wls_var`` fall back to ``wls_struct`` and ``info`` says so).
    ``aggregate_scale``: see :func:`scale_aggregates` (1 = textbook MinT).

    Returns (frame, info): the frame has one row per series x step with unique_id, step, mean, lo80, hi80,
    lo95, hi95 reconciled; info has method, lambda, n_samples, notes.
    """
    ids = list(h.ids)
    steps = np.sort(base["step"].unique())
    H = steps.size
    pos = {u: i for i, u in enumerate(ids)}
    step_pos = {s: i for i, s in enumerate(steps)}
    present = base["unique_id"].map(pos)
    b = base[present.notna()]
    r, c = present[present.notna()].astype(int).to_numpy(), b["step"].map(step_pos).to_numpy()
    mats = {}
    for col in ("mean", "lo80", "hi80", "lo95", "hi95"):
        M = np.full((len(ids), H), np.nan)
        M[r, c] = b[col].to_numpy(dtype=float)
        mats[col] = M
    notes = []
    na = h.n_aggregates
    missing = np.isnan(mats["mean"]).any(axis=1)
    if missing[na:].any():
        notes.append(f"{int(missing[na:].sum())} bottom series without a base forecast: taken as 0")
        for col in mats:
            mats[col][na:][missing[na:]] = 0.0
    bu = h.C @ mats["mean"][na:]
    sig = sigma_from_interval(mats["mean"], mats["lo80"], mats["hi80"])
    if missing[:na].any():
        notes.append(f"{int(missing[:na].sum())} aggregates without a base forecast: their bottom-up sum")
        mats["mean"][:na][missing[:na]] = bu[missing[:na]]
        # no base forecast: a spread so wide that the reconciliation ignores it
        sig[:na][missing[:na]] = 1e3 * np.nanmax(np.abs(bu)) + 1.0
    cov = None
    if residuals is not None and len(residuals):
        keys = pd.Index(residuals["key"].unique())
        E = np.full((len(keys), len(ids)), np.nan)
        rr = residuals[residuals["unique_id"].isin(pos)]
        E[keys.get_indexer(rr["key"]), rr["unique_id"].map(pos).to_numpy()] = rr["error"].to_numpy(dtype=float)
        cov = shrunk_covariance(E, sigma_fallback=sig[:, 0])
    used = method
    if cov is None and method in ("mint_shrink", "wls_var"):
        used = "wls_struct"
        notes.append(f"no backtest residuals: {method} replaced by wls_struct")
    w_cov = None if cov is None else scale_aggregates(cov, h, aggregate_scale)
    mean = reconcile(mats["mean"], h, used, w_cov)
    sd = reconciled_std(sig, h, used, w_cov)
    # never narrower than the series' own base interval (coverage on the development sets: see the docstring)
    sd = np.where(missing[:, None], sd, np.maximum(sd, sig))
    out = pd.DataFrame(
        {
            "unique_id": np.repeat(np.asarray(ids, dtype=object), H),
            "step": np.tile(steps, len(ids)),
            "mean": mean.ravel(),
        }
    )
    s = sd.ravel()
    has_base = ~np.repeat(missing, H)
    for z, lv in ((Z80, 80), (Z95, 95)):
        lo = np.clip(out["mean"].to_numpy() - z * s, 0.0, None)
        hi = out["mean"].to_numpy() + z * s
        # and never leaving out what the series' own base interval holds (see the module docstring)
        out[f"lo{lv}"] = np.where(has_base, np.fmin(lo, mats[f"lo{lv}"].ravel()), lo)
        out[f"hi{lv}"] = np.where(has_base, np.fmax(hi, mats[f"hi{lv}"].ravel()), hi)
    info = {
        "method": used,
        "aggregate_scale": aggregate_scale if used in ("mint_shrink", "wls_var") else 1.0,
        "lambda": None if cov is None else cov.lambda_,
        "n_samples": 0 if cov is None else cov.n_samples,
        "notes": notes,
    }
    return out, info


def reconcile_run(
    results: Sequence,
    family_of: Mapping[str, str],
    months: Mapping[str, Sequence],
    *,
    total_id: str,
    family_prefix: str,
    method: str = "mint_shrink",
    aggregate_scale: float = 1.0,
) -> tuple[pd.DataFrame, dict]:
    """Reconcile one forecast run: SKUs > families > total.

    ``results``: the run's per-series results (``batch.SeriesResult``: unique_id, ok, chosen, forecast with
    step/mean/lo80/hi80/lo95/hi95, backtest with cutoff/step/y/model/forecast). ``family_of``: SKU -> family.
    ``months``: the history months of each series (to align backtest errors by origin and target month).
    SKUs whose forecast failed are left out of the hierarchy (their family's other SKUs share its total).

    Returns the reconciled frame (unique_id, step, mean, lo80, hi80, lo95, hi95; every SKU, family and the
    total) and ``info`` (method, lambda, n_samples, notes).
    """
    ok = {r.unique_id: r for r in results if r.ok}
    skus = sorted(u for u in ok if u in family_of)
    if not skus:
        return pd.DataFrame(columns=["unique_id", "step", "mean", "lo80", "hi80", "lo95", "hi95"]), {
            "method": "none",
            "aggregate_scale": 1.0,
            "lambda": None,
            "n_samples": 0,
            "notes": ["no SKU forecasts to reconcile"],
        }
    h = Hierarchy.from_levels(skus, [[total_id] * len(skus), [family_prefix + str(family_of[s]) for s in skus]])
    rs = [ok[u] for u in h.ids if u in ok]
    # plain arrays, stacked once (pandas operations per series cost ~1 ms each: minutes at 100,000 SKUs)
    cols = ["step", "mean", "lo80", "hi80", "lo95", "hi95"]
    where: dict[tuple, list[int]] = {}  # column positions per column layout (the same for every series)

    def at(frame: pd.DataFrame, names: list[str]) -> list[int]:
        layout = tuple(frame.columns)
        if layout not in where:
            where[layout] = [layout.index(c) for c in names]
        return where[layout]

    fc = np.concatenate([r.forecast.to_numpy(dtype=float)[:, at(r.forecast, cols)] for r in rs])
    base = pd.DataFrame(fc, columns=cols)
    base["step"] = base["step"].astype(int)
    base.insert(
        0, "unique_id", np.repeat(np.array([r.unique_id for r in rs], dtype=object), [len(r.forecast) for r in rs])
    )
    with_bt = [r for r in rs if r.backtest is not None and len(r.backtest)]
    residuals = None
    if with_bt:
        bcols = ["cutoff", "step", "y", "forecast"]
        where.clear()
        parts = [(r, r.backtest.to_numpy(), at(r.backtest, [*bcols, "model"])) for r in with_bt]
        keep = [p[:, ix[4]] == r.chosen for r, p, ix in parts]
        num = np.concatenate([p[k][:, ix[:4]].astype(float) for (r, p, ix), k in zip(parts, keep)])
        lens = [int(k.sum()) for k in keep]
        # key: (origin month, step) as one integer; a series' months run on from its first month, so the
        # origin month is the first month's number plus the cutoff index
        first = np.array([months[r.unique_id][0].year * 12 + months[r.unique_id][0].month for r in with_bt])
        origin = np.repeat(first, lens) + num[:, 0].astype(np.int64)
        residuals = pd.DataFrame(
            {
                "unique_id": np.repeat(np.array([r.unique_id for r in with_bt], dtype=object), lens),
                "key": origin * 1000 + num[:, 1].astype(np.int64),
                "error": num[:, 2] - num[:, 3],
            }
        )
    out, info = reconcile_forecasts(base, h, residuals, method, aggregate_scale)
    failed = [r.unique_id for r in results if not r.ok and r.unique_id in family_of]
    if failed:
        info["notes"].append(f"{len(failed)} SKUs failed to forecast and are left out of the reconciliation")
    return out, info
