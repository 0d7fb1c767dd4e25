"""Exponential smoothing: statsmodels ``ETSModel`` (ETS by AICc, SES, damped multiplicative Holt-Winters)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.forecasting.models.base import Bounds, ForecastModel, UpdateCache, _normal_bounds, _short
from analytics.forecasting.models.prepared import NO_SEASONALITY, _Prepared, seasonal_adjustment

__all__ = ["ETS", "ETS_CONFIGS", "SES", "DampedETS", "EtsFit", "HoltWinters"]

#: ETS configurations by name: (error, trend, damped, seasonal).
ETS_CONFIGS: dict[str, tuple[str, str | None, bool, str | None]] = {
    "ANN": ("add", None, False, None),
    "AAN": ("add", "add", False, None),
    "AAdN": ("add", "add", True, None),
    "ANA": ("add", None, False, "add"),
    "AAdA": ("add", "add", True, "add"),
    "MAdM": ("mul", "add", True, "mul"),
}


@dataclass(frozen=True)
class EtsFit:
    """A fitted ETS configuration: what the models use of statsmodels' ``ETSModel`` estimate.

    ``params``: smoothing_level (alpha), smoothing_trend (beta), smoothing_seasonal (gamma), damping_trend
    (phi), as present in the configuration; initial states as estimated or set by the heuristic;
    ``aicc`` and ``resid`` (one-step residuals; relative ones for multiplicative error) as ``ETSResults``
    would report them. Building a full ``ETSResults`` (it evaluates a numerical Hessian) costs about a
    fifth of the fit itself, and nothing here needs the covariance.
    """

    config: str
    params: dict[str, float]
    initial_level: float
    initial_trend: float
    initial_seasonal: np.ndarray
    aicc: float
    resid: np.ndarray


_SQRT_EPS = float(np.finfo(float).eps ** 0.5)


def _ets_mle(model: object) -> np.ndarray:
    """``ETSModel.fit(return_params=True)``, the same estimate at 55-70% of the cost.

    statsmodels 0.15 minimises -loglike / n with scipy's L-BFGS-B and lets scipy approximate the gradient
    by forward differences (absolute step 1e-8, turned inwards at a bound); that generic machinery costs
    more than the likelihood evaluations themselves on these short series. This is the same procedure -
    the same start values, bounds, starred parameters, likelihood (statsmodels' own smoothing function),
    difference steps and optimiser settings - with the gradient taken in a plain loop, so the iterates and
    the estimate are the same to the last bit (``tests/unit/test_forecasting_models.py`` checks it). Uses
    ETSModel internals, hence the pinned statsmodels version.
    """
    from scipy.optimize import fmin_l_bfgs_b

    m = model  # statsmodels ETSModel
    internal_start = m._convert_and_bound_start_params(m.start_params)
    bounds = m._setup_bounds()
    use_beta_star = "smoothing_trend" not in m.bounds
    if use_beta_star:
        internal_start[1] /= internal_start[0]
    use_gamma_star = "smoothing_seasonal" not in m.bounds
    if use_gamma_star:
        internal_start[2] /= 1 - internal_start[0]
    k = m._k_params_internal
    is_fixed = np.zeros(k, dtype=np.int64)
    fixed_values = np.empty_like(internal_start)
    free, free_bounds = [], []
    for i in range(k):
        if bounds[i][0] == bounds[i][1]:
            is_fixed[i] = True
            fixed_values[i] = bounds[i][0]
        else:
            free.append(internal_start[i])
            free_bounds.append(bounds[i])
    nobs = m.endog.shape[0]
    data = m.endog
    yhat = np.zeros(m.nobs)
    xhat = np.zeros((m.nobs, m._k_states_internal))
    smooth, mul_error = m._smoothing_func, m.error == "mul"
    lb = np.array([-np.inf if b[0] is None else b[0] for b in free_bounds], dtype=float)
    ub = np.array([np.inf if b[1] is None else b[1] for b in free_bounds], dtype=float)
    bounded = not np.all((lb == -np.inf) & (ub == np.inf))

    def objective(p: np.ndarray) -> float:  # -ETSModel._loglike_internal / nobs, operation for operation
        smooth(p, data, yhat, xhat, is_fixed, fixed_values, use_beta_star, use_gamma_star)
        res = (data - yhat) / yhat if mul_error else data - yhat
        log_l = -m.nobs / 2 * (np.log(2 * np.pi * (np.add.reduce(res**2) / res.size)) + 1)
        if mul_error:
            yhat[yhat == 0] = 1e-32
            log_l -= np.sum(np.log(np.abs(yhat)))
        return -log_l / nobs

    def objective_and_gradient(p: np.ndarray) -> tuple[float, np.ndarray]:
        f0 = objective(p)
        # scipy.optimize._numdiff.approx_derivative, method '2-point', abs_step 1e-8, with bounds
        sign = (p >= 0).astype(float) * 2 - 1
        h = np.full(p.size, 1e-8)
        h = np.where(((p + h) - p) == 0, _SQRT_EPS * sign * np.maximum(1.0, np.abs(p)), h)
        if bounded:
            lower, upper = p - lb, ub - p
            x = p + h
            violated = (x < lb) | (x > ub)
            fitting = np.abs(h) <= np.maximum(lower, upper)
            h[violated & fitting] *= -1
            forward = (upper >= lower) & ~fitting
            h[forward] = upper[forward]
            backward = (upper < lower) & ~fitting
            h[backward] = -lower[backward]
        grad = np.empty(p.size)
        for i in range(p.size):
            x1 = p.copy()
            x1[i] = p[i] + h[i]
            grad[i] = (objective(x1) - f0) / ((p[i] + h[i]) - p[i])
        return f0, grad

    xopt, _, _ = fmin_l_bfgs_b(objective_and_gradient, np.asarray(free), bounds=free_bounds, maxiter=1000)
    fitted = np.empty_like(internal_start)
    j = 0
    for i in range(k):
        if is_fixed[i]:
            fitted[i] = fixed_values[i]
        else:
            fitted[i] = xopt[j]
            j += 1
    if use_beta_star:
        fitted[1] *= fitted[0]
    if use_gamma_star:
        fitted[2] *= 1 - fitted[0]
    return np.asarray(m._model_params(fitted), dtype=float)


def _fit_ets(x: np.ndarray, name: str, season_length: int) -> EtsFit:
    """statsmodels ETSModel fit; heuristic initial states with >= 2 seasons (24 points without season)."""
    from statsmodels.tools.eval_measures import aicc
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    error, trend, damped, seasonal = ETS_CONFIGS[name]
    m = season_length
    heuristic = x.size >= 2 * m if seasonal else x.size >= 24
    model = ETSModel(
        x,
        error=error,
        trend=trend,
        damped_trend=damped,
        seasonal=seasonal,
        seasonal_periods=m if seasonal else None,
        initialization_method="heuristic" if heuristic else "estimated",
    )
    params = _ets_mle(model)
    # the internal vector (alpha, beta, gamma, phi, l0, b0, s0...) as ETSResults reads it (statsmodels 0.15)
    internal = np.asarray(model._internal_params(params), dtype=float)
    values = dict(zip(model.param_names, params.tolist()))
    if damped:
        values["damping_trend"] = float(internal[3])
    fit = EtsFit(
        config=name,
        params={k: v for k, v in values.items() if not k.startswith("initial_")},
        initial_level=float(internal[4]),
        initial_trend=float(internal[5]) if trend else 0.0,
        initial_seasonal=internal[6:][::-1].copy() if seasonal else np.zeros(0),
        aicc=float("nan"),
        resid=np.zeros(0),
    )
    fitted, _ = _ets_run(fit, x, 0, season_length)
    resid = (x - fitted) / fitted if error == "mul" else x - fitted
    llf = float(model.loglike(params))
    return dataclasses.replace(fit, aicc=float(aicc(llf, x.size, params.size + 1)), resid=resid)


def _ets_sigma_h(fit: EtsFit, h: int, season_length: int) -> np.ndarray:
    """sqrt(sigma^2 (1 + sum_{j<h} c_j^2)), c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m == 0]."""
    values = fit.params
    alpha = values.get("smoothing_level", 0.0)
    beta = values.get("smoothing_trend", 0.0)
    gamma = values.get("smoothing_seasonal", 0.0)
    phi = values.get("damping_trend", 1.0)
    _, trend, _, seasonal = ETS_CONFIGS[fit.config]
    j = np.arange(1, h)
    c = np.full(j.size, alpha)
    if trend:
        c = c + beta * np.cumsum(phi**j)
    if seasonal:
        c = c + gamma * (j % season_length == 0)
    resid = fit.resid
    sigma2 = float(np.mean(resid[np.isfinite(resid)] ** 2))
    return np.sqrt(sigma2 * (1.0 + np.r_[0.0, np.cumsum(c**2)]))


def _ets_run(fit: EtsFit, x: np.ndarray, h: int, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """One-step fitted values over ``x`` and the point forecast h steps after it, from the fit's parameters
    and initial states.

    statsmodels' own smoothing recursion (the Holt-Winters error-correction form of
    ``statsmodels.tsa.exponential_smoothing._ets_smooth``, beta* = beta / alpha, gamma* = gamma / (1 - alpha)),
    so on the data the model was fitted to it reproduces ``ETSResults.fittedvalues`` and ``.forecast``; on a
    longer series that starts with that data it gives the fixed-parameter forecast from the later origin
    (used by the rolling-origin backtest).
    """
    values = fit.params
    _, trend, damped, seasonal = ETS_CONFIGS[fit.config]
    alpha = values["smoothing_level"]
    beta_star = values.get("smoothing_trend", 0.0) / alpha if trend else 0.0
    gamma_star = values.get("smoothing_seasonal", 0.0) / (1.0 - alpha) if seasonal else 0.0
    phi = values.get("damping_trend", 1.0) if damped else 1.0
    m = season_length
    level, slope = fit.initial_level, fit.initial_trend if trend else 0.0
    season = fit.initial_seasonal.tolist()
    mul = seasonal == "mul"
    fitted = np.empty(x.size)
    for t, yt in enumerate(x.tolist()):
        prev_level = level
        base = level + phi * slope
        if seasonal:
            s_old = season[t % m]
            fitted[t] = base * s_old if mul else base + s_old
            level = alpha * (yt / s_old if mul else yt - s_old) + (1.0 - alpha) * base
            season[t % m] = gamma_star * (yt / level if mul else yt - level) + (1.0 - gamma_star) * s_old
        else:
            fitted[t] = base
            level = alpha * yt + (1.0 - alpha) * base
        if trend:
            slope = beta_star * (level - prev_level) + (1.0 - beta_star) * phi * slope
    damp = np.cumsum(phi ** np.arange(1, h + 1)) if trend else np.zeros(h)
    mean = level + damp * slope
    if seasonal:
        s_future = np.asarray(season)[(x.size + np.arange(h)) % m]
        mean = mean * s_future if mul else mean + s_future
    return fitted, mean


class ETS(_Prepared):
    """Exponential smoothing (statsmodels ``ETSModel``), configuration chosen by AICc.

    Fitted on the working series of ``_Prepared`` (seasonally adjusted, log scale when positive):
    additive-error ``configs`` (default level only and damped trend; undamped trends win AICc too often on
    monthly business data and over-extrapolate). When the series is seasonal but has values <= 0 (so the
    adjustment is additive and no log is possible), the additive-seasonal ``seasonal_configs`` are fitted
    to the raw series instead.
    Interval: additive-error (class 1) analytic variance sigma^2 (1 + sum_{j<h} c_j^2) with
    c_j = alpha + beta (phi + ... + phi^j) + gamma [j mod m == 0], sigma^2 = mean squared one-step
    residual; then back through log and seasonal indices. Fallback: < 6 points or all zeros -> Naive.
    """

    alias = "ETS"
    min_obs = 6

    def __init__(
        self,
        season_length: int = 12,
        configs: Sequence[str] = ("ANN", "AAdN"),
        seasonal_configs: Sequence[str] = ("ANA", "AAdA"),
        log: bool | str = "auto",
    ) -> None:
        super().__init__(season_length=season_length, log=log)
        self.configs = tuple(configs)
        self.seasonal_configs = tuple(seasonal_configs)
        unknown = set(self.configs + self.seasonal_configs) - set(ETS_CONFIGS)
        if unknown:
            raise ValueError(f"unknown ETS configurations {sorted(unknown)}; known: {sorted(ETS_CONFIGS)}")

    def get_params(self) -> dict[str, object]:
        return {
            "season_length": self.season_length,
            "configs": self.configs,
            "seasonal_configs": self.seasonal_configs,
            "log": self.log,
        }

    def _fit(self, y: np.ndarray) -> None:
        m = self.season_length
        adj = seasonal_adjustment(y, m)
        if adj.method == "additive" and self.seasonal_configs and y.size >= 2 * m + 2:
            self.adjustment_, self.log_scale_, self.n_obs_ = NO_SEASONALITY, False, y.size
            self._select(y, self.seasonal_configs)
        else:
            super()._fit(y)

    def _fit_working(self, x: np.ndarray) -> None:
        self._select(x, self.configs)

    def _select(self, x: np.ndarray, names: Sequence[str]) -> None:
        best: tuple[float, str, object] | None = None
        errors: list[str] = []
        for name in names:
            try:
                res = _fit_ets(x, name, self.season_length)
                aicc = res.aicc
            except Exception as exc:  # noqa: BLE001 - try the other configurations
                errors.append(f"{name}: {_short(exc)}")
                continue
            if not np.isfinite(aicc):
                aicc = np.inf
            if best is None or aicc < best[0]:
                best = (aicc, name, res)
        if best is None:
            raise RuntimeError("no ETS configuration could be fitted (" + "; ".join(errors) + ")")
        _, self.config_, self.result_ = best
        self._work_ = x

    @property
    def chosen_config(self) -> str:
        """ETS(error, trend, seasonal) code of the fitted configuration, e.g. 'AAdN' ('' before fit)."""
        return getattr(self, "config_", "")

    def _forecast_working(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = _ets_run(self.result_, self._work_, h, self.season_length)[1]
        sigma_h = _ets_sigma_h(self.result_, h, self.season_length)
        return mean, _normal_bounds(mean, sigma_h, levels)

    def _update_working(self, x: np.ndarray, h: int) -> np.ndarray:
        return _ets_run(self.result_, x, h, self.season_length)[1]


class DampedETS(ETS):
    """``ETS`` restricted to the damped-trend configurations: AAdN on the working series (AAdA on a raw
    series that is seasonal with values <= 0), so the trend is always kept, damped towards flat.

    AICc often prefers the level-only model on short or noisy histories, which then misses a steady trend;
    this variant always keeps one, and the damping (phi estimated in statsmodels' bounds, 0.8-0.98) stops it
    over-extrapolating. Interval and fallback as ``ETS``.
    """

    alias = "DampedETS"

    def __init__(self, season_length: int = 12, log: bool | str = "auto") -> None:
        super().__init__(season_length=season_length, configs=("AAdN",), seasonal_configs=("AAdA",), log=log)

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length, "log": self.log}


class SES(ETS):
    """Simple exponential smoothing: ``ETS`` restricted to the level-only configuration (ANN).

    ``alpha`` None (default) estimates the smoothing constant; a fixed ``alpha`` starts the level at the
    first observation (l_0 = y_1) and smooths l_t = l_{t-1} + alpha (y_t - l_{t-1}) with no estimation.
    Interval: sigma^2 (1 + (h - 1) alpha^2) (the ETS formula with beta = gamma = 0). For new items.
    """

    alias = "SES"
    min_obs = 3

    def __init__(self, season_length: int = 12, log: bool | str = "auto", alpha: float | None = None) -> None:
        super().__init__(season_length=season_length, configs=("ANN",), seasonal_configs=("ANA",), log=log)
        if alpha is not None and not 0.0 < alpha <= 1.0:
            raise ValueError("alpha must be in (0, 1]")
        self.alpha = alpha

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length, "log": self.log, "alpha": self.alpha}

    def _fit_working(self, x: np.ndarray) -> None:
        if self.alpha is None:
            super()._fit_working(x)
            return
        fit = EtsFit("ANN", {"smoothing_level": self.alpha}, float(x[0]), 0.0, np.zeros(0), float("nan"), x[:0])
        fitted, _ = _ets_run(fit, x, 0, self.season_length)
        self.config_, self.result_, self._work_ = "ANN", dataclasses.replace(fit, resid=x - fitted), x


class HoltWinters(ForecastModel):
    """Damped multiplicative Holt-Winters: statsmodels ``ETSModel`` ETS(M,Ad,M) on the raw series.

    Estimates its own, slowly changing seasonal pattern (a different view from the classical
    decomposition the other models share), which is why it is a ``Combo`` member. Needs two full
    seasons of positive data; otherwise falls back to ``ETS``.
    Interval (approximation): multiplicative-error model, so sigma is the RMS relative one-step error and
    the h-step standard deviation is mean_h * sigma * sqrt(1 + sum_{j<h} c_j^2) with the ETS c_j.
    """

    alias = "HoltWinters"

    def __init__(self, season_length: int = 12) -> None:
        super().__init__()
        self.season_length = int(season_length)

    def get_params(self) -> dict[str, object]:
        return {"season_length": self.season_length}

    def _fallback(self) -> ForecastModel:
        return ETS(self.season_length)

    def _unsuitable(self, y: np.ndarray) -> str | None:
        if y.size < 2 * self.season_length:
            return f"too short: {y.size} < {2 * self.season_length} observations"
        if np.any(y <= 0):
            return "needs positive values"
        return None

    def _fit(self, y: np.ndarray) -> None:
        self.result_ = _fit_ets(y, "MAdM", self.season_length)

    def _forecast(self, h: int, levels: Sequence[int]) -> tuple[np.ndarray, Bounds]:
        mean = _ets_run(self.result_, self._y, h, self.season_length)[1]  # type: ignore[arg-type]
        rel = _ets_sigma_h(self.result_, h, self.season_length)
        return mean, _normal_bounds(mean, np.abs(mean) * rel, levels)

    def _forecast_from(self, y: np.ndarray, h: int, cache: UpdateCache | None) -> np.ndarray | None:
        if np.any(y <= 0):
            raise ValueError("needs positive values")
        return _ets_run(self.result_, y, h, self.season_length)[1]
