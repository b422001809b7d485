"""A small LSTM that forecasts the direction and size of the forward return from recent bars.

The model reads the last ``window`` rows of features ending at bar ``t`` (rows
``t - window + 1 .. t``, nothing later) through a ``layers``-deep LSTM of ``hidden`` units and
feeds its final hidden state to two linear heads: the logit of P(forward return > 0) and the
expected forward return (in training-standardised units, mapped back on the way out). It is
trained on the sum of the binary cross-entropy of the direction and ``return_weight`` times
the mean squared error of the standardised return, with AdamW (learning rate ``lr``, decoupled
weight decay ``weight_decay``), gradient norms clipped to ``GRAD_CLIP_NORM`` and mini-batches
of ``batch_size`` windows shuffled by a numpy ``Generator`` seeded with ``seed``.

Early stopping: the last ``validation_fraction`` of the training windows, in time order, is
held out (never the data being forecast); after each epoch the validation cross-entropy is
measured and training stops after ``patience`` epochs without a new best; the weights of the
best epoch are kept, the untrained network (epoch 0) included. The validation windows' labels
may overlap the last training labels by the forecast horizon, which only makes the stopping
point slightly optimistic.

Inputs: features are standardised with the training mean and standard deviation (stored on
the model, a column without spread gets scale 1) and non-finite values are replaced by the
training mean (0 after standardising). The rows of ``X`` are taken as consecutive bars: a row
without ``window`` rows of ``X`` ending at it gets no forecast, P(up) = 0.5 and an expected
return of 0 (an abstention). When training is impossible (fewer than ``MIN_TRAIN_WINDOWS``
windows with a finite label, or one class only) every row gets the smoothed training base
rate ``(ups + 1) / (n + 2)`` and the training mean return.

Determinism: weights are initialised from ``torch.manual_seed(seed)`` inside a forked random
state (the caller's torch random state is left as it was); fitting and forecasting run on one
thread with ``torch.use_deterministic_algorithms(True)``, and the previous thread count and
setting are restored afterwards (these are process-wide settings: do not fit two models in
threads of one process at once). The same seed and data give a bit-identical ``state_dict`` on
one machine and torch build; :meth:`LstmModel.state_hash` fingerprints it.
:meth:`LstmModel.to_bytes` stores only tensors, numbers, strings and containers, so
:meth:`LstmModel.from_bytes` loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torch import nn

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_WINDOW = 20  # bars of history per forecast: about a month of daily bars
DEFAULT_HIDDEN = 16  # LSTM units: a few hundred to a few thousand weights for ~25 features
DEFAULT_LAYERS = 1
DEFAULT_EPOCHS = 30  # upper bound; early stopping usually ends training sooner
DEFAULT_BATCH_SIZE = 64
DEFAULT_LR = 3e-3  # AdamW step size
DEFAULT_PATIENCE = 5  # epochs without a better validation loss before training stops
DEFAULT_WEIGHT_DECAY = 1e-3  # decoupled L2 shrinkage of the weights (AdamW)
DEFAULT_RETURN_WEIGHT = 0.1  # weight of the return head's MSE beside the direction's BCE
DEFAULT_VALIDATION_FRACTION = 0.2  # time-ordered tail of the training windows for stopping
GRAD_CLIP_NORM = 1.0  # largest gradient norm per step: keeps early steps on noisy data sane
MIN_TRAIN_WINDOWS = 16  # fewer training windows than this: forecast the base rate
MIN_VALIDATION_WINDOWS = 8  # fewer held-out windows than this: train all epochs, no stopping
PREDICT_CHUNK = 4_096  # windows per forward pass when forecasting (bounds memory)
FORMAT_VERSION = 1  # layout of to_bytes(); raised when it changes


class _Net(nn.Module):
    """LSTM encoder with a direction head (logit) and a return head (standardised)."""

    def __init__(self, n_features: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, num_layers=layers, batch_first=True)
        self.up_head = nn.Linear(hidden, 1)
        self.return_head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, (h, _) = self.lstm(x)
        last = h[-1]
        return self.up_head(last).squeeze(-1), self.return_head(last).squeeze(-1)


@contextlib.contextmanager
def _deterministic(seed: int) -> Iterator[None]:
    """Run torch on one thread, deterministically, in a forked random state seeded by ``seed``."""
    threads = torch.get_num_threads()
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        torch.set_num_threads(threads)


def _snapshot(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


def _check_int(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer of at least {low}, got {value!r}")
    return int(value)


def _check_float(name: str, value: float, low: float, high: float) -> float:
    v = float(value)
    if not low <= v < high:
        raise ValueError(f"{name} must be in [{low}, {high}), got {value!r}")
    return v


class LstmModel:
    """LSTM forecaster of P(forward return > 0) and its expected size (see the module doc).

    Parameters: ``seed`` (weights and shuffling), ``window`` (rows per forecast), ``hidden``
    and ``layers`` (LSTM size), ``epochs`` (at most), ``batch_size``, ``lr``, ``patience``,
    ``weight_decay``, ``return_weight`` and ``validation_fraction``; defaults are the module's
    ``DEFAULT_*`` constants. After :meth:`fit`: ``columns``, ``feature_mean``,
    ``feature_scale``, ``return_mean``, ``return_scale``, ``rate`` (smoothed training base
    rate), ``epochs_run`` and ``best_epoch`` (0: the untrained network was kept).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        window: int = DEFAULT_WINDOW,
        hidden: int = DEFAULT_HIDDEN,
        layers: int = DEFAULT_LAYERS,
        epochs: int = DEFAULT_EPOCHS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lr: float = DEFAULT_LR,
        patience: int = DEFAULT_PATIENCE,
        weight_decay: float = DEFAULT_WEIGHT_DECAY,
        return_weight: float = DEFAULT_RETURN_WEIGHT,
        validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    ) -> None:
        self.seed = _check_int("seed", seed, 0)
        self.window = _check_int("window", window, 1)
        self.hidden = _check_int("hidden", hidden, 1)
        self.layers = _check_int("layers", layers, 1)
        self.epochs = _check_int("epochs", epochs, 0)
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.lr = _check_float("lr", lr, 0.0, float("inf"))
        self.patience = _check_int("patience", patience, 1)
        self.weight_decay = _check_float("weight_decay", weight_decay, 0.0, float("inf"))
        self.return_weight = _check_float("return_weight", return_weight, 0.0, float("inf"))
        self.validation_fraction = _check_float(
            "validation_fraction", validation_fraction, 0.0, 1.0
        )
        self.columns: tuple[str, ...] | None = None
        self.feature_mean: FloatArray = np.empty(0)
        self.feature_scale: FloatArray = np.empty(0)
        self.return_mean = 0.0
        self.return_scale = 1.0
        self.rate = 0.5
        self.epochs_run = 0
        self.best_epoch = 0
        self._net: _Net | None = None

    # -- configuration and state ----------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Return the constructor arguments, enough to build an unfitted twin."""
        return {
            "seed": self.seed,
            "window": self.window,
            "hidden": self.hidden,
            "layers": self.layers,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "patience": self.patience,
            "weight_decay": self.weight_decay,
            "return_weight": self.return_weight,
            "validation_fraction": self.validation_fraction,
        }

    def _require_fitted(self) -> tuple[str, ...]:
        if self.columns is None:
            raise ValueError("the model is not fitted")
        return self.columns

    def state_hash(self) -> str:
        """Return a sha256 hex digest of the hyperparameters, input statistics and weights."""
        columns = self._require_fitted()
        digest = hashlib.sha256()
        header = {
            "format": FORMAT_VERSION,
            "config": self.config(),
            "columns": list(columns),
            "scalars": [self.return_mean, self.return_scale, self.rate],
        }
        digest.update(json.dumps(header, sort_keys=True).encode())
        digest.update(self.feature_mean.tobytes())
        digest.update(self.feature_scale.tobytes())
        if self._net is not None:
            for key, tensor in self._net.state_dict().items():
                digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
                digest.update(tensor.detach().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def fingerprint(self) -> str:
        """Return :meth:`state_hash` once fitted, else the hyperparameters as JSON."""
        if self.columns is None:
            return json.dumps(self.config(), sort_keys=True)
        return self.state_hash()

    def to_bytes(self) -> bytes:
        """Serialise the fitted model (torch.save of tensors, numbers, strings, containers)."""
        columns = self._require_fitted()
        state = None if self._net is None else dict(self._net.state_dict())
        payload = {
            "format": FORMAT_VERSION,
            "config": self.config(),
            "columns": list(columns),
            "feature_mean": torch.from_numpy(self.feature_mean.copy()),
            "feature_scale": torch.from_numpy(self.feature_scale.copy()),
            "return_mean": self.return_mean,
            "return_scale": self.return_scale,
            "rate": self.rate,
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "state": state,
        }
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LstmModel:
        """Load a model written by :meth:`to_bytes` (``torch.load`` with ``weights_only``)."""
        payload = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
        if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
            raise ValueError("not an LstmModel of a known format")
        model = cls(**payload["config"])
        model.columns = tuple(str(c) for c in payload["columns"])
        model.feature_mean = payload["feature_mean"].numpy().astype(np.float64)
        model.feature_scale = payload["feature_scale"].numpy().astype(np.float64)
        model.return_mean = float(payload["return_mean"])
        model.return_scale = float(payload["return_scale"])
        model.rate = float(payload["rate"])
        model.epochs_run = int(payload["epochs_run"])
        model.best_epoch = int(payload["best_epoch"])
        if payload["state"] is not None:
            with _deterministic(model.seed):
                net = _Net(len(model.columns), model.hidden, model.layers)
                net.load_state_dict(payload["state"])
            net.eval()
            model._net = net
        return model

    # -- arrays -----------------------------------------------------------------------------

    def _standardised(self, X: pd.DataFrame) -> npt.NDArray[np.float32]:
        columns = self._require_fitted()
        if not isinstance(X, pd.DataFrame):
            raise ValueError("X must be a DataFrame")
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the training columns {missing}")
        x = X[list(columns)].to_numpy(dtype=np.float64, na_value=np.nan)
        z = (x - self.feature_mean) / self.feature_scale
        z[~np.isfinite(z)] = 0.0
        return z.astype(np.float32)

    def _windows(self, z: npt.NDArray[np.float32], ends: npt.NDArray[np.int64]) -> torch.Tensor:
        """Return the windows ending at rows ``ends`` (each >= window - 1), shape (n, w, f)."""
        view = np.lib.stride_tricks.sliding_window_view(z, self.window, axis=0)
        # view[i] is rows i .. i + window - 1, laid out (features, window)
        picked = view[ends - (self.window - 1)].transpose(0, 2, 1)
        return torch.from_numpy(np.ascontiguousarray(picked))

    # -- fit --------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y_up: BoolArray, y_ret: FloatArray) -> None:
        """Fit the input statistics and the network on time-ordered rows and their labels."""
        if not isinstance(X, pd.DataFrame):
            raise ValueError("X must be a DataFrame")
        up = np.asarray(y_up, dtype=bool)
        ret = np.asarray(y_ret, dtype=np.float64)
        if up.shape != (len(X),) or ret.shape != (len(X),):
            raise ValueError("y_up and y_ret must be 1-d with one value per row of X")
        if not all(isinstance(c, str) for c in X.columns) or not X.columns.is_unique:
            raise ValueError("the columns of X must be distinct strings")
        x = X.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = np.isfinite(x)
        counts = finite.sum(axis=0)
        sums = np.where(finite, x, 0.0).sum(axis=0)
        mean = np.divide(sums, counts, out=np.zeros(x.shape[1]), where=counts > 0)
        dev = np.where(finite, x - mean, 0.0)
        var = np.divide((dev * dev).sum(axis=0), counts, out=np.zeros(x.shape[1]), where=counts > 0)
        scale = np.sqrt(var)
        self.columns = tuple(X.columns)
        self.feature_mean = mean
        self.feature_scale = np.where(scale > 0.0, scale, 1.0)
        known = np.isfinite(ret)
        n_known = int(known.sum())
        n_up = int(up[known].sum())
        self.rate = (n_up + 1.0) / (n_known + 2.0)
        self.return_mean = float(ret[known].mean()) if n_known else 0.0
        spread = float(ret[known].std()) if n_known else 0.0
        self.return_scale = spread if spread > 0.0 else 1.0
        self.epochs_run = self.best_epoch = 0
        self._net = None

        ends = np.flatnonzero(known & (np.arange(len(X)) >= self.window - 1)).astype(np.int64)
        if ends.shape[0] < MIN_TRAIN_WINDOWS or not 0 < up[ends].sum() < ends.shape[0]:
            return
        z = self._standardised(X)
        windows = self._windows(z, ends)
        target_up = torch.from_numpy(up[ends].astype(np.float32))
        target_ret = torch.from_numpy(
            ((ret[ends] - self.return_mean) / self.return_scale).astype(np.float32)
        )
        n_val = round(self.validation_fraction * ends.shape[0])
        if n_val < MIN_VALIDATION_WINDOWS or ends.shape[0] - n_val < MIN_TRAIN_WINDOWS:
            n_val = 0
        with _deterministic(self.seed):
            net = _Net(len(self.columns), self.hidden, self.layers)
            self._train(net, windows, target_up, target_ret, ends.shape[0] - n_val)
        net.eval()
        self._net = net

    def _train(
        self,
        net: _Net,
        windows: torch.Tensor,
        target_up: torch.Tensor,
        target_ret: torch.Tensor,
        n_train: int,
    ) -> None:
        rng = np.random.default_rng(self.seed)
        optimiser = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        bce = nn.BCEWithLogitsLoss()
        mse = nn.MSELoss()
        has_val = n_train < windows.shape[0]

        def validation_loss() -> float:
            net.eval()
            with torch.no_grad():
                logit, _ = net(windows[n_train:])
                return float(bce(logit, target_up[n_train:]))

        best = validation_loss() if has_val else float("inf")
        best_state = _snapshot(net)
        stale = 0
        for epoch in range(1, self.epochs + 1):
            net.train()
            order = torch.from_numpy(rng.permutation(n_train))
            for start in range(0, n_train, self.batch_size):
                batch = order[start : start + self.batch_size]
                logit, predicted = net(windows[batch])
                loss = bce(logit, target_up[batch]) + self.return_weight * mse(
                    predicted, target_ret[batch]
                )
                optimiser.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), GRAD_CLIP_NORM)
                optimiser.step()
            self.epochs_run = epoch
            if not has_val:
                self.best_epoch = epoch
                best_state = _snapshot(net)
                continue
            loss_now = validation_loss()
            if loss_now < best:
                best, stale, self.best_epoch = loss_now, 0, epoch
                best_state = _snapshot(net)
            else:
                stale += 1
                if stale >= self.patience:
                    break
        net.load_state_dict(best_state)

    # -- forecast ---------------------------------------------------------------------------

    def _forecast(self, X: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
        z = self._standardised(X)
        n = z.shape[0]
        if self._net is None:
            return np.full(n, self.rate), np.full(n, self.return_mean)
        probs = np.full(n, 0.5)
        returns = np.zeros(n)
        ends = np.arange(self.window - 1, n, dtype=np.int64)
        with _deterministic(self.seed), torch.no_grad():
            for start in range(0, ends.shape[0], PREDICT_CHUNK):
                chunk = ends[start : start + PREDICT_CHUNK]
                logit, predicted = self._net(self._windows(z, chunk))
                probs[chunk] = torch.sigmoid(logit).double().numpy()
                returns[chunk] = predicted.double().numpy() * self.return_scale + self.return_mean
        return probs, returns

    def predict_proba(self, X: pd.DataFrame) -> FloatArray:
        """Return P(forward return > 0) per row (0.5 for rows before a full window)."""
        return self._forecast(X)[0]

    def predict_return(self, X: pd.DataFrame) -> FloatArray:
        """Return the expected forward return per row (0 for rows before a full window)."""
        return self._forecast(X)[1]
