from __future__ import annotations

import numpy as np
import pytest

from magma_policy import features as F
from magma_policy.actions import N_ACTIONS


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
        assert -1 <= f.unit_features.min() and f.unit_features.max() <= 3  # offsets to targets are signed
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


def _column(name: str) -> int:
    return F.UNIT_FEATURES.index(name)


def test_home_metal_is_the_nearest_factory_metal_in_heavy_prices(game48):
    import copy

    state = copy.deepcopy(game48.states[-1])
    factories = list(state.factories["player_0"].values())
    assert len(factories) >= 2 and state.units["player_0"]
    price = state.cfg.ROBOTS["HEAVY"].METAL_COST
    for k, fac in enumerate(factories):  # 0, then half a heavy, then more than one heavy
        fac.cargo.metal = [0, price // 2, 3 * price][min(k, 2)]
    f = F.encode(state, "player_0")
    centres = np.array([fac.pos for fac in factories])
    for i, pos in enumerate(f.unit_pos):
        home = factories[int(np.maximum(np.abs(pos - centres) - 1, 0).sum(axis=1).argmin())]
        assert f.unit_features[i, _column("home_metal")] == pytest.approx(min(home.cargo.metal / price, 1.0))
    # Robots of this game stand near each kind of factory: all three values are read somewhere.
    assert set(f.unit_features[:, _column("home_metal")].tolist()) == {0.0, 0.5, 1.0}


@pytest.mark.parametrize("name", ["game48", "game64"])
def test_target_tiles_are_distinct_resource_tiles_near_home(name, request):
    state = request.getfixturevalue(name).states[-1]
    board = state.board
    checked = 0
    for player in ("player_0", "player_1"):
        units = F.unit_order(state, player)
        targets = F.target_tiles(state, player, units)
        centres = np.array([fac.pos for fac in state.factories[player].values()])
        clearable = (board.rubble > 0) & (board.ice == 0) & (board.ore == 0)
        for kind, field, reach in (("ice", board.ice, 12), ("ore", board.ore, 12), ("rubble", clearable, 4)):
            tiles = [t for t in targets[kind] if t is not None]
            for tile in tiles:
                assert field[tile] > 0
                assert np.maximum(np.abs(np.array(tile) - centres) - 1, 0).sum(axis=1).min() <= reach
            assert len(tiles) == len(set(tiles))  # no two robots are sent to the same tile
            checked += len(tiles)
        for unit, home in zip(units, targets["home"]):  # a tile of the nearest factory's footprint
            gap = np.maximum(np.abs(unit.pos - centres) - 1, 0).sum(axis=1)
            assert (np.abs(np.array(home) - centres).max(axis=1) <= 1).any()
            assert np.abs(np.array(home) - unit.pos).sum() == gap.min()
    assert checked > 0


@pytest.mark.parametrize("name", ["game48", "game64"])
def test_step_features_point_at_the_target_tiles(name, request):
    from lux.actions import direction_to

    state = request.getfixturevalue(name).states[-1]
    names = ("up", "right", "down", "left")
    for player in ("player_0", "player_1"):
        f = F.encode(state, player)
        units = F.unit_order(state, player)
        targets = F.target_tiles(state, player, units)
        for kind in ("home", "ice", "ore", "rubble"):
            steps = f.unit_features[:, [_column("%s_%s" % (kind, d)) for d in names]]
            for i, tile in enumerate(targets[kind]):
                pos = f.unit_pos[i]
                if tile is None or tuple(pos) == tile:
                    assert not steps[i].any()
                else:
                    # 1 on direction_to's step (UP, RIGHT, DOWN, LEFT are 1-4), 0.5 on another closer one.
                    assert steps[i].argmax() == direction_to(pos, np.array(tile)) - 1 and steps[i].max() == 1
                    assert set(steps[i].tolist()) <= {0.0, 0.5, 1.0}
                if kind != "home":
                    gap = 16 if tile is None else min(np.abs(np.array(tile) - pos).sum(), 16)
                    assert f.unit_features[i, _column(kind + "_dist")] == pytest.approx(gap / 16)
                    assert f.unit_features[i, _column("has_%s_target" % kind)] == float(tile is not None)


@pytest.mark.parametrize("name", ["game48", "game64"])
def test_a_robot_on_ice_near_home_keeps_its_tile_unless_claimed_before_it(name, request):
    kept = 0
    for state in request.getfixturevalue(name).states[::5]:  # robots stand on ice now and then in these games
        for player in ("player_0", "player_1"):
            if not state.factories[player]:
                continue
            units = F.unit_order(state, player)
            targets = F.target_tiles(state, player, units)["ice"]
            centres = np.array([fac.pos for fac in state.factories[player].values()])
            order = sorted(range(len(units)), key=lambda i: (not units[i].is_heavy, i))  # heavies claim ice first
            for rank, i in enumerate(order):
                pos = units[i].pos
                near_home = np.maximum(np.abs(pos - centres) - 1, 0).sum(axis=1).min() <= 12
                if not (state.board.ice[pos[0], pos[1]] > 0 and near_home):
                    continue
                if targets[i] == tuple(pos):
                    kept += 1
                else:  # only a robot ahead of it in the claim order can have taken its tile
                    assert tuple(pos) in [targets[j] for j in order[:rank]]
    assert kept > 0


def test_unknown_player_is_an_error(game48):
    with pytest.raises(ValueError, match="player_0"):
        F.encode(game48.states[0], "player_2")


def test_robots_of_a_player_without_factories_have_no_targets(game48):
    import dataclasses

    state = game48.states[-1]
    factories = dict(state.factories, player_0={})
    f = F.encode(dataclasses.replace(state, factories=factories), "player_0")
    assert len(f.unit_ids) > 0
    for kind in ("ice", "ore", "rubble"):
        assert np.all(f.unit_features[:, _column(kind + "_dist")] == 1.0)
        assert not f.unit_features[:, _column("has_%s_target" % kind)].any()
    steps = [_column("%s_%s" % (kind, d)) for kind in ("home", "ice", "ore", "rubble")
             for d in ("up", "right", "down", "left")]
    assert not f.unit_features[:, steps].any()


def test_home_features_follow_the_remembered_home():
    from lux.config import GameConfig
    from lux.state import GameState
    from tests.helpers import boards

    # A light built by factory_0 (low water) stands nearer factory_2 (much water).
    board = boards.empty_board(24)
    facs = {"factory_0": boards.factory((4, 8), water=60, power=700),
            "factory_2": boards.factory((14, 8), water=900, power=3000)}
    obs = boards.observation(board, {"unit_7": boards.robot((11, 8), "LIGHT")}, facs)
    state = GameState.from_obs(obs, GameConfig(map_size=24))
    nearest = F.encode(state, "player_0")
    remembered = F.encode(state, "player_0", {"unit_7": "factory_0"})
    assert nearest.unit_features[0, _column("home_water")] == pytest.approx(0.9)
    assert remembered.unit_features[0, _column("home_water")] == pytest.approx(0.06)
    assert remembered.unit_features[0, _column("home_power")] == pytest.approx(700 / F.FACTORY_POWER_SCALE)
    # The step home leads left to factory_0, not right to factory_2; the GO_HOME walk shares that tile.
    assert nearest.unit_features[0, _column("home_right")] == 1.0
    assert remembered.unit_features[0, _column("home_left")] == 1.0
    assert remembered.unit_features[0, _column("home_right")] == 0.0
    assert remembered.targets["home"] == [(5, 8)]
