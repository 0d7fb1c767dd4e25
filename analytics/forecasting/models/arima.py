"""Automatic ARIMA on the working series: a stepwise order search in the manner of R's ``auto.arima``.

Why not statsmodels ``SARIMAX`` for the search: one exact-likelihood fit costs about 15 ms on a 100-month
series (one BLAS thread, measured on the project machine: ARIMA(1,1,1) with ``concentrate_scale``), so a
stepwise search of 8-12 orders would cost 0.15 s a series, more than the whole automatic forecast is
allowed (issue 13: no more CPU than statsforecast AutoETS, about 0.1 s). The search below uses the
conditional-sum-of-squares (CSS) estimate instead, as ``auto.arima`` does for its search: the residuals of
an ARMA(p, q) are one ``scipy.signal.lfilter`` pass, and Levenberg-Marquardt (``scipy.optimize.least_squares``)
minimises their sum of squares in well under a millisecond. The differencing order comes from statsmodels'
KPSS test, the forecast variance from statsmodels' ``arma2ma`` psi weights.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from analytics.forecasting.models.base import Bounds, _normal_bounds
from analytics.forecasting.models.prepared import _Prepared

__all__ = ["ARIMA", "ArimaFit", "fit_arima_css", "ndiffs"]


def ndiffs(x: np.ndarray, alpha: float = 0.05, max_d: int = 2) -> int:
    """Differences needed for level stationarity: repeated KPSS tests at ``alpha`` (``auto.arima``'s rule)."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    work = np.asarray(x, dtype=float)
    while d < max_d and work.size > 8 and np.ptp(work) > 0:
        with warnings.catch_warnings():  # p-values outside the look-up table are clipped, as intended
            warnings.simplefilter("ignore")
            _, p_value, *_ = kpss(work, regression="c", nlags="auto", result_object=False)
        if p_value >= alpha:  # statsmodels clips p to [0.01, 0.1]: >= alpha means "stationary enough"
            break
        d += 1
        work = np.diff(work)
    return d


class ArimaFit:
    """A CSS-estimated ARIMA(p, d, q) with or without a constant on one series.

    The model: phi(B) (w_t - mu) = theta(B) e_t with w = the d-th difference of x; ``mu`` is the mean of w
    (for d = 1 the drift, for d = 0 the level; fixed at 0 without a constant). Coefficients in the
    statsmodels sign convention: ``ar`` = (phi_1..phi_p) with phi(B) = 1 - phi_1 B - ..., ``ma`` =
    (theta_1..theta_q) with theta(B) = 1 + theta_1 B + .... CSS: pre-sample errors are zero and the first
    p residuals are left out of the sum of squares. ``sigma2`` = that sum / (residuals - parameters),
    ``aicc`` from the conditional Gaussian likelihood.
    """

    def __init__(
        self, order: tuple[int, int, int], constant: bool, params: np.ndarray, x: np.ndarray, skip: int | None = None
    ) -> None:
        self.order = order
        self.constant = constant
        p, _, q = order
        self.ar = np.asarray(params[:p], dtype=float)
        self.ma = np.asarray(params[p : p + q], dtype=float)
        self.mu = float(params[p + q]) if constant else 0.0
        self.skip = p if skip is None else int(skip)
        resid = self.residuals(x)
        n_eff = resid.size
        k = p + q + int(constant)
        sse = float(resid @ resid)
        self.sigma2 = sse / max(n_eff - k, 1)
        llf = -0.5 * n_eff * (math.log(2 * math.pi * max(sse / max(n_eff, 1), 1e-300)) + 1.0)
        n_par = k + 1
        self.aicc = (
            -2 * llf + 2 * n_par + (2 * n_par * (n_par + 1) / (n_eff - n_par - 1) if n_eff > n_par + 1 else np.inf)
        )

    def _errors(self, x: np.ndarray) -> np.ndarray:
        from scipy.signal import lfilter

        d = self.order[1]
        w = np.diff(x, n=d) - self.mu if d else x - self.mu
        return lfilter(np.r_[1.0, -self.ar], np.r_[1.0, self.ma], w)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """CSS residuals of the differenced series, the first ``skip`` (>= p) left out."""
        return self._errors(x)[self.skip :]

    def forecast(self, x: np.ndarray, h: int) -> np.ndarray:
        """Mean forecast h steps after ``x`` with these coefficients (future errors zero)."""
        p, d, q = self.order
        e = self._errors(x)
        w = (np.diff(x, n=d) if d else x) - self.mu
        w_ext = np.r_[w, np.zeros(h)]
        e_ext = np.r_[e, np.zeros(h)]
        n = w.size
        for t in range(n, n + h):
            ar_part = sum(self.ar[i] * w_ext[t - 1 - i] for i in range(p) if t - 1 - i >= 0)
            ma_part = sum(self.ma[j] * e_ext[t - 1 - j] for j in range(q) if t - 1 - j >= 0)
            w_ext[t] = ar_part + ma_part
        future = w_ext[n:] + self.mu
        for level in range(d, 0, -1):  # undo the differences: cumulate from the last value of each level
            last = np.diff(x, n=level - 1)[-1] if level > 1 else x[-1]
            future = last + np.cumsum(future)
        return future

    def sigma_h(self, h: int) -> np.ndarray:
        """Forecast standard deviations: sigma sqrt(sum_{j<h} psi_j^2) of the ARIMA's MA(inf) form."""
        from statsmodels.tsa.arima_process import arma2ma

        ar_poly = np.r_[1.0, -self.ar]
        for _ in range(self.order[1]):
            ar_poly = np.convolve(ar_poly, [1.0, -1.0])
        psi = arma2ma(ar_poly, np.r_[1.0, self.ma], lags=h)
        return np.sqrt(self.sigma2 * np.cumsum(psi**2))


def _stable(coefs: np.ndarray) -> bool:
    """Roots of 1 - c_1 z - ... - c_k z^k outside the unit circle (stationary AR / invertible MA)."""
    if coefs.size == 0:
        return True
    roots = np.roots(np.r_[-coefs[::-1], 1.0])
    return bool(np.all(np.abs(roots) > 1.0 + 1e-3))


def _hannan_rissanen(w: np.ndarray, p: int, q: int, constant: bool) -> np.ndarray:
    """Start values: Hannan-Rissanen's two regressions (a long AR for the errors, then OLS on lags)."""
    n = w.size
    mu = float(np.mean(w)) if constant else 0.0
    z = w - mu
    if q == 0 and p == 0:
        return np.array([mu]) if constant else np.zeros(0)
    m = min(max(p, q) + 4, n // 4)
    e = np.zeros(n)
    if q and m >= 1:
        lags = np.column_stack([z[m - i - 1 : n - i - 1] for i in range(m)])
        coef, *_ = np.linalg.lstsq(lags, z[m:], rcond=None)
        e[m:] = z[m:] - lags @ coef
    start = max(p, q + m if q else 0)
    if n - start < p + q + 2:
        return np.r_[np.zeros(p + q), [mu] if constant else []]
    cols = [z[start - i - 1 : n - i - 1] for i in range(p)] + [e[start - j - 1 : n - j - 1] for j in range(q)]
    coef, *_ = np.linalg.lstsq(np.column_stack(cols), z[start:], rcond=None)
    coef = np.where(np.isfinite(coef), coef, 0.0)
    if not _stable(coef[:p]):
        coef[:p] = 0.0
    if not _stable(-coef[p:]):
        coef[p:] = 0.0
    return np.r_[coef, [mu] if constant else []]


def fit_arima_css(
    x: np.ndarray, order: tuple[int, int, int], constant: bool, skip: int | None = None
) -> ArimaFit | None:
    """CSS estimate of one order: Levenberg-Marquardt from Hannan-Rissanen start values; None when it fails
    or the estimate is not stationary and invertible. ``skip``: leading residuals left out of the sum of
    squares (default p; the order search uses its largest p for all orders, so their AICc compare the same
    residuals)."""
    from scipy.optimize import least_squares
    from scipy.signal import lfilter

    p, d, q = order
    skip = p if skip is None else max(int(skip), p)
    w = np.diff(x, n=d) if d else np.asarray(x, dtype=float)
    k = p + q + int(constant)
    if w.size < k + skip + 3:
        return None
    if k == 0:
        return ArimaFit(order, constant, np.zeros(0), x, skip)
    if q == 0:  # a pure AR's CSS estimate is the least-squares regression on its lags: closed form
        n = w.size
        cols = [w[skip - i - 1 : n - i - 1] for i in range(p)] + ([np.ones(n - skip)] if constant else [])
        coef, *_ = np.linalg.lstsq(np.column_stack(cols), w[skip:], rcond=None)
        phi = coef[:p]
        if not (np.all(np.isfinite(coef)) and _stable(phi)):
            return None
        mu = [coef[p] / (1.0 - phi.sum())] if constant else []  # intercept c = mu (1 - sum phi)
        return ArimaFit(order, constant, np.r_[phi, mu], x, skip)
    start = _hannan_rissanen(w, p, q, constant)
    a_poly, b_poly = np.zeros(p + 1), np.zeros(q + 1)
    a_poly[0] = b_poly[0] = 1.0

    n = w.size
    shifted = np.zeros((n, p + q + int(constant)))  # columns: z_{t-i}, e_{t-j}, -1 (for the mean)

    def resid(par: np.ndarray) -> np.ndarray:
        a_poly[1:] = -par[:p]
        b_poly[1:] = par[p : p + q]
        return lfilter(a_poly, b_poly, w - par[p + q] if constant else w)[skip:]

    def jac(par: np.ndarray) -> np.ndarray:
        # e = (phi(B) / theta(B)) (w - mu): de/dphi_i = -z_{t-i} / theta(B), de/dtheta_j = -e_{t-j} / theta(B),
        # de/dmu = -phi(B) 1 / theta(B); one lfilter over the stacked columns
        a_poly[1:] = -par[:p]
        b_poly[1:] = par[p : p + q]
        z = w - par[p + q] if constant else w
        for i in range(p):
            shifted[i + 1 :, i] = z[: n - i - 1]
        if q:
            e = lfilter(a_poly, b_poly, z)
            for j in range(q):
                shifted[j + 1 :, p + j] = e[: n - j - 1]
        out = -lfilter([1.0], b_poly, shifted, axis=0)
        if constant:
            out[:, -1] = -lfilter(a_poly, b_poly, np.ones(n))
        return out[skip:]

    try:
        sol = least_squares(resid, start, jac=jac, method="lm", xtol=1e-4, ftol=1e-5, max_nfev=50 * (k + 1))
    except (ValueError, np.linalg.LinAlgError):
        return None
    par = sol.x
    if not (np.all(np.isfinite(par)) and _stable(par[:p]) and _stable(-par[p : p + q])):
        return None
    return ArimaFit(order, constant, par, x, skip)


class ARIMA(_Prepared):
    """Automatic ARIMA(p, d, q) on the working series (seasonally adjusted, log scale when positive).

    Order search (Hyndman & Khandakar 2008, ``auto.arima``'s stepwise algorithm without seasonal terms,
    since the shared classical decomposition removes the seasonality): d by repeated KPSS tests
    (``ndiffs``, at most 2); with d <= 1 a constant is tried too (the drift when d = 1); start from
    ARIMA(2,d,2), (0,d,0), (1,d,0) and (0,d,1), then move to the neighbour (p +- 1, q +- 1, both, the
    constant toggled) with the lowest AICc while one improves, p and q at most ``max_p`` / ``max_q``.
    Each order is a CSS estimate (``fit_arima_css``); orders whose estimate is not stationary and
    invertible are skipped. ``orders`` given explicitly replaces the search by a choice among them.
    Interval: psi-weight variance of the ARIMA with the CSS sigma^2, normal; then back through log and
    seasonal indices. Fallback: fewer than 10 points, all zeros or no order fits -> Naive.
    """

    alias = "ARIMA"
    min_obs = 10

    def __init__(
        self,
        season_length: int = 12,
        orders: Sequence[tuple[int, int, int]] | None = None,
        log: bool | str = "auto",
        max_p: int = 3,
        max_q: int = 3,
    ) -> None:
        super().__init__(season_length=season_length, log=log)
        self.orders = None if orders is None else tuple(tuple(int(v) for v in o) for o in orders)
        self.max_p = int(max_p)
        self.max_q = int(max_q)

    def get_params(self) -> dict[str, object]:
        return {
            "season_length": self.season_length,
            "orders": self.orders,
            "log": self.log,
            "max_p": self.max_p,
            "max_q": self.max_q,
        }

    def _fit_working(self, x: np.ndarray) -> None:
        tried: dict[tuple[int, int, int, bool], ArimaFit | None] = {}

        def attempt(p: int, d: int, q: int, c: bool) -> float:
            key = (p, d, q, c)
            if key not in tried:
                tried[key] = fit_arima_css(x, (p, d, q), c, skip=skip)
            fit = tried[key]
            return fit.aicc if fit is not None and np.isfinite(fit.aicc) else np.inf

        skip = max([o[0] for o in self.orders] if self.orders is not None else [self.max_p])
        if self.orders is not None:
            for p, d, q in self.orders:
                attempt(p, d, q, False)
        else:
            d = ndiffs(x)
            consts = (True, False) if d <= 1 else (False,)
            c0 = consts[0]
            start = [(2, d, 2, c0), (0, d, 0, c0), (1, d, 0, c0), (0, d, 1, c0)]
            if d <= 1:
                start.append((0, d, 0, False))
            best = min(start, key=lambda o: attempt(*o))
            best_ic = attempt(*best)
            improved = True
            while improved and len(tried) < 40:
                improved = False
                p, d, q, c = best
                neighbours = [(p + dp, d, q + dq, c) for dp, dq in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1))]
                if d <= 1:
                    neighbours.append((p, d, q, not c))
                for cand in neighbours:
                    if 0 <= cand[0] <= self.max_p and 0 <= cand[2] <= self.max_q:
                        ic = attempt(*cand)
                        if ic < best_ic:
                            best, best_ic, improved = cand, ic, True
                            break
        fits = [f for f in tried.values() if f is not None and np.isfinite(f.aicc)]
        if not fits:
            raise RuntimeError("no ARIMA order could be fitted")
        self.result_ = min(fits, key=lambda f: f.aicc)
        self.order_ = self.result_.order
        self.orders_tried_ = len(tried)
        self._work_ = x

    @property
    def chosen_order(self) -> str:
        """The fitted order as text, e.g. 'ARIMA(1,1,0) with drift' ('' before fit)."""
        fit = getattr(self, "result_", None)
        if fit is None:
            return ""
        p, d, q = fit.order
        extra = {0: " with mean", 1: " with drift"}.get(d, "") if fit.constant else ""
        return f"ARIMA({p},{d},{q}){extra}"

    def _forecast_working(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = self.result_.forecast(self._work_, h)
        return mean, _normal_bounds(mean, self.result_.sigma_h(h), levels)

    def _update_working(self, x: np.ndarray, h: int) -> np.ndarray:
        # same coefficients, errors run through the longer series
        return self.result_.forecast(x, h)
