"""An untrained policy exported to a temporary folder, so tests never depend on weights/."""
from __future__ import annotations

import os

import numpy as np

from magma_policy.actions import N_ACTIONS
from magma_policy.features import N_GLOBAL_FEATURES, N_MAP_CHANNELS, N_UNIT_FEATURES, Features


def export_untrained_policy(directory: str, seed: int = 0):
    """Write policy.onnx + policy.json (random weights, random batch-norm statistics); returns (path, net)."""
    from magma_policy.export import export_untrained

    path = os.path.join(str(directory), "policy.onnx")
    net = export_untrained(path, seed=seed)
    return path, net


def random_features(size: int, n: int, seed: int = 0) -> Features:
    rng = np.random.RandomState(seed)
    return Features(
        map_planes=rng.rand(N_MAP_CHANNELS, size, size).astype(np.float32),
        global_features=rng.rand(N_GLOBAL_FEATURES).astype(np.float32),
        unit_ids=["unit_%d" % i for i in range(n)],
        unit_pos=rng.randint(0, size, (n, 2)).astype(np.int64),
        unit_features=rng.rand(n, N_UNIT_FEATURES).astype(np.float32),
        action_mask=np.concatenate([np.ones((n, 1), bool), rng.rand(n, N_ACTIONS - 1) > 0.3], axis=1),
        targets={kind: [None] * n for kind in ("home", "ice", "ore", "rubble")},
    )
