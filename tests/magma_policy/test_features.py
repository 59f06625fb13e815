from __future__ import annotations

import numpy as np
import pytest

from magma_policy import features as F
from magma_policy.actions import N_ACTIONS


def test_distance_map_matches_brute_force():
    rng = np.random.RandomState(0)
    src = rng.rand(13, 9) < 0.05
    src[4, 4] = True
    got = F.manhattan_distance_map(src)
    pts = np.argwhere(src)
    xs, ys = np.meshgrid(np.arange(13), np.arange(9), indexing="ij")
    want = np.min(np.abs(xs[..., None] - pts[:, 0]) + np.abs(ys[..., None] - pts[:, 1]), axis=2)
    assert np.array_equal(got, want)
    assert np.isinf(F.manhattan_distance_map(np.zeros((4, 4), bool))).all()


def test_cached_distance_map_follows_the_mask_it_is_given():
    rng = np.random.RandomState(1)
    first = rng.rand(11, 11) < 0.1
    second = first.copy()
    second[0, 0] = not second[0, 0]  # one tile differs: a different map, not the remembered one
    for mask in (first, second, first, second.T):
        got = F.cached_distance_map(mask)
        assert np.array_equal(got, F.manhattan_distance_map(mask))
        assert not got.flags.writeable  # shared between calls, so nobody may write into it
    assert F.cached_distance_map(first) is F.cached_distance_map(first.copy())


@pytest.mark.parametrize("name", ["game48", "game64"])
def test_shapes_and_ranges_on_real_games(name, request):
    game = request.getfixturevalue(name)
    state = game.states[-1]
    size = state.board.rubble.shape[0]
    for player in ("player_0", "player_1"):
        f = F.encode(state, player)
        n = len(state.units[player])
        assert f.map_planes.shape == (F.N_MAP_CHANNELS, size, size) and f.map_planes.dtype == np.float32
        assert f.global_features.shape == (F.N_GLOBAL_FEATURES,)
        assert f.unit_pos.shape == (n, 2) and f.unit_pos.dtype == np.int64
        assert f.unit_features.shape == (n, F.N_UNIT_FEATURES)
        assert f.action_mask.shape == (n, N_ACTIONS) and f.action_mask[:, 0].all()
        assert np.isfinite(f.map_planes).all() and f.map_planes.min() >= 0 and f.map_planes.max() <= 3
        assert 0 <= f.unit_features.min() and f.unit_features.max() <= 3
        assert n > 0
        for i, uid in enumerate(f.unit_ids):
            assert np.array_equal(f.unit_pos[i], state.units[player][uid].pos)
        own = f.map_planes[F.MAP_CHANNELS.index("own_light")] + f.map_planes[F.MAP_CHANNELS.index("own_heavy")]
        assert own.sum() == n and own[f.unit_pos[:, 0], f.unit_pos[:, 1]].all()
    # The two views mirror each other: our factories are the enemy's.
    a, b = F.encode(state, "player_0"), F.encode(state, "player_1")
    own, enemy = F.MAP_CHANNELS.index("own_factory"), F.MAP_CHANNELS.index("enemy_factory")
    assert np.array_equal(a.map_planes[own], b.map_planes[enemy])
    assert a.map_planes[own].sum() == 9 * len(state.factories["player_0"])


def test_unit_features_follow_the_robot(game48):
    state = game48.states[-1]
    f = F.encode(state, "player_0")
    for i, uid in enumerate(f.unit_ids):
        u = state.units["player_0"][uid]
        assert f.unit_features[i, 0] == float(u.is_heavy)
        assert f.unit_features[i, 1] == pytest.approx(u.power / u.cfg.BATTERY_CAPACITY)
        assert f.unit_features[i, 4] == float(state.board.ice[u.pos[0], u.pos[1]] > 0)
        assert f.unit_features[i, 13] == float(len(u.action_queue) == 0)


def test_unknown_player_is_an_error(game48):
    with pytest.raises(ValueError, match="player_0"):
        F.encode(game48.states[0], "player_2")
