"""Load the exported policy and play it: encode -> evaluate -> pick -> decode, without torch.

`load_policy` uses onnxruntime when it is importable (one intra-op thread: Kaggle games run on one core),
else the numpy executor. It refuses a weights file whose metadata does not match this code's features and
actions (schema.check_metadata).
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

from lux.homes import RobotHomes
from lux.state import GameState

from . import schema
from .actions import decode
from .features import Features, encode

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "weights", "policy.onnx")
BACKENDS = ("auto", "onnxruntime", "numpy")


def check_temperature(value: object, source: str = "temperature") -> float:
    """`value` as a sampling temperature (a number >= 0; 0 is the most likely action). Raises ValueError naming
    `source` otherwise (nan included)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not value >= 0:
        raise ValueError("%s must be a number >= 0, got %r" % (source, value))
    return float(value)


def _metadata_path(onnx_path: str) -> str:
    return os.path.splitext(onnx_path)[0] + ".json"


class PolicyRuntime:
    """One loaded policy. `backend` is "onnxruntime" or "numpy". `play_temperature`: the temperature it was
    trained to be played at (metadata "play_temperature", written by PPO runs; 0, the most likely action, for
    policies without it, such as imitation's). It remembers its robots' home factories (`homes`) from turn to
    turn, so `act` must see every turn of a game (a new game starts when the step goes back)."""

    def __init__(self, path: str, backend: str, metadata: Dict) -> None:
        self.path = path
        self.backend = backend
        self.metadata = metadata
        self.play_temperature = float(metadata.get("play_temperature", 0.0))
        network = metadata.get("network")
        # The quarter network downsamples by 4: other map sides are padded at the far edges, off the board.
        self._side_multiple = 4 if isinstance(network, dict) and network.get("arch") == "quarter" else 1
        self._rng = np.random.RandomState()
        self.homes = RobotHomes()
        if backend == "onnxruntime":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
            self._run = lambda feeds: self._session.run(None, feeds)
        else:
            from .numpy_executor import NumpyExecutor

            self._executor = NumpyExecutor.from_file(path)
            self._run = self._executor.run

    def seed(self, seed: int) -> None:
        self._rng = np.random.RandomState(seed)

    def evaluate(self, features: Features) -> Tuple[np.ndarray, np.ndarray]:
        """(logits [N, A] with masked actions at -1e9, unit_value [N]) for one encoded view."""
        n = len(features.unit_ids)
        if n == 0:
            return (np.zeros((0, features.action_mask.shape[1]), dtype=np.float32), np.zeros(0, dtype=np.float32))
        planes = features.map_planes
        pad_w, pad_h = (-planes.shape[1]) % self._side_multiple, (-planes.shape[2]) % self._side_multiple
        if pad_w or pad_h:
            planes = np.pad(planes, ((0, 0), (0, pad_w), (0, pad_h)))
        feeds = {
            "map_planes": np.ascontiguousarray(planes[None], dtype=np.float32),
            "global_features": np.ascontiguousarray(features.global_features[None], dtype=np.float32),
            "unit_pos": np.ascontiguousarray(features.unit_pos, dtype=np.int64),
            "unit_features": np.ascontiguousarray(features.unit_features, dtype=np.float32),
            "action_mask": np.ascontiguousarray(features.action_mask, dtype=bool),
        }
        logits, unit_value = self._run(feeds)
        return np.asarray(logits, dtype=np.float32), np.asarray(unit_value, dtype=np.float32).reshape(n)

    def choose(self, logits: np.ndarray, mask: np.ndarray, temperature: float = 0.0) -> np.ndarray:
        """Action ids among the allowed ones: the most likely at temperature 0, else a sample from
        softmax(logits / temperature) (1.0 is the distribution the policy was trained with; lower values
        keep most of its choices and drop the rare ones)."""
        temperature = check_temperature(temperature)
        masked = np.where(mask, logits, -np.inf)
        if temperature == 0:
            return masked.argmax(axis=1).astype(np.int64)
        z = (masked - masked.max(axis=1, keepdims=True)) / temperature
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        u = self._rng.rand(len(p), 1)
        return np.minimum((p.cumsum(axis=1) < u).sum(axis=1), p.shape[1] - 1).astype(np.int64)

    def act(self, state: GameState, player: str, temperature: float = 0.0,
            homes: Optional[Mapping[str, str]] = None) -> Dict[str, List[List[int]]]:
        """The robots' queues that change this turn (see `choose` for the temperature). `homes`: robot id ->
        home factory id from a caller that follows the game itself (else the policy's own memory)."""
        features = encode(state, player, self.homes.update(state, player) if homes is None else homes)
        if not features.unit_ids:
            return {}
        logits, _ = self.evaluate(features)
        chosen = self.choose(logits, features.action_mask, temperature)
        return decode(state, player, features.unit_ids, chosen, features.targets)


def _onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def load_policy(path: Optional[str] = None, backend: str = "auto") -> PolicyRuntime:
    """Load weights/policy.onnx (or `path`) and its metadata. Raises FileNotFoundError, SchemaMismatch or
    ValueError with a message that says what to do."""
    if backend not in BACKENDS:
        raise ValueError("backend must be one of %s, got %r" % (", ".join(BACKENDS), backend))
    path = path or DEFAULT_PATH
    meta_path = _metadata_path(path)
    for p in (path, meta_path):
        if not os.path.exists(p):
            raise FileNotFoundError(
                "policy file %s not found: train and export a policy (make train, or "
                "train.export.export_checkpoint(run_dir, export_to='weights')), or copy policy.onnx and "
                "policy.json into %s" % (p, os.path.dirname(os.path.abspath(path))))
    with open(meta_path) as f:
        try:
            metadata = json.load(f)
        except ValueError as exc:
            message = "policy metadata %s is not valid JSON (%s): re-export the policy" % (meta_path, exc)
            raise ValueError(message) from exc
    schema.check_metadata(metadata, meta_path)
    try:
        check_temperature(metadata.get("play_temperature", 0.0), "play_temperature")
    except ValueError as exc:
        raise ValueError("policy metadata %s: %s; fix it or re-export the policy" % (meta_path, exc)) from exc
    if backend == "auto":
        backend = "onnxruntime" if _onnxruntime_available() else "numpy"
    return PolicyRuntime(path, backend, metadata)
