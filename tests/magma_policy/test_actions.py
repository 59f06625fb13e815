from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from lux import actions as L
from lux.config import GameConfig
from lux.state import GameState
from magma_policy import actions as A
from magma_policy.features import encode
from tests.game import ActionCounter
from tests.helpers import boards


@pytest.mark.parametrize("name", ["game48", "game64"])
def test_engine_accepts_every_allowed_action(name, request):
    game = request.getfixturevalue(name)
    assert game.counter.seen > 200  # the games really exercised robots
    assert game.counter.rejected == 0


@pytest.mark.parametrize("name", ["game48", "game64"])
def test_decode_never_collides_our_robots(name, request):
    game = request.getfixturevalue(name)
    checked = 0
    for state, player, queues in game.decoded:
        tiles = []
        for uid, u in state.units[player].items():
            queue = queues.get(uid, u.action_queue)
            if uid in queues and u.power < u.cfg.ACTION_QUEUE_POWER_COST:
                queue = u.action_queue  # the engine skips the update
            pos = u.pos
            if queue and int(queue[0][0]) == L.MOVE and int(queue[0][1]) != L.CENTER:
                pos = pos + L.DIRECTION_DELTAS[int(queue[0][1])]
            tiles.append((int(pos[0]), int(pos[1])))
        assert len(tiles) == len(set(tiles))
        checked += len(tiles)
    assert checked > 500


def _state(env, player="player_0"):
    cfg = GameConfig.from_dict(dataclasses.asdict(env.state.env_cfg))
    return GameState.from_obs(env.state.get_obs(), cfg)


def _engine_rejects(env, player, uid, queue) -> bool:
    trial = copy.deepcopy(env)
    with ActionCounter() as counter:
        trial.step({player: {uid: queue}, "player_1" if player == "player_0" else "player_0": {}})
    assert counter.seen >= 1
    return counter.rejected >= 1


def test_masked_out_engine_violations_are_rejected(game48, game64):
    """Masked-out moves off the map or into enemy factories, and digs on factories, fail in the engine too."""
    tried = 0
    for game in (game48, game64):
        for env, _ in game.envs:
            state = _state(env)
            ctx = A._Context(state, "player_0")
            for uid, u in state.units["player_0"].items():
                if u.power < u.cfg.ACTION_QUEUE_POWER_COST + u.cfg.DIG_COST + 50 or u.action_queue:
                    continue
                mask = A.action_masks(state, "player_0", [uid])[0]
                for action, d in A.MOVE_DIRECTION.items():
                    t = u.pos + L.DIRECTION_DELTAS[d]
                    outside = not ctx.in_bounds(int(t[0]), int(t[1]))
                    if outside or ctx.enemy_tiles[int(t[0]), int(t[1])]:
                        assert not mask[action]
                        assert _engine_rejects(env, "player_0", uid, [L.move(d)])
                        tried += 1
                if ctx.own_tiles[int(u.pos[0]), int(u.pos[1])]:
                    assert not mask[A.DIG]
                    assert _engine_rejects(env, "player_0", uid, [L.dig()])
                    tried += 1
                if tried >= 12:
                    return
    assert tried >= 1


def _lone_robot_state(unit_type="HEAVY", power=3000, pos=(5, 5), ice=0, cargo_ice=0, rubble=0, queue=()):
    """A tiny 10x10 board with one own factory at (2, 2) and one robot."""
    board = boards.empty_board(10)
    board["ice"][pos] = ice
    board["rubble"][pos] = rubble
    unit = boards.robot(pos, unit_type=unit_type, power=power, ice=cargo_ice, queue=queue)
    obs = boards.observation(board, {"unit_1": unit}, {"factory_0": boards.factory((2, 2))})
    return GameState.from_obs(obs, GameConfig(map_size=10))


def test_power_saving_masks():
    # Nothing to dig on bare ground; ice with room in the cargo is worth digging, a full cargo is not.
    assert not A.action_masks(_lone_robot_state(), "player_0", ["unit_1"])[0, A.DIG]
    assert A.action_masks(_lone_robot_state(ice=1), "player_0", ["unit_1"])[0, A.DIG]
    assert not A.action_masks(_lone_robot_state(ice=1, cargo_ice=1000), "player_0", ["unit_1"])[0, A.DIG]
    assert A.action_masks(_lone_robot_state(rubble=30), "player_0", ["unit_1"])[0, A.DIG]
    # Transfers need cargo and an own factory tile under or next to the robot.
    near = _lone_robot_state(pos=(4, 2), cargo_ice=10)
    assert A.action_masks(near, "player_0", ["unit_1"])[0, A.TRANSFER_ICE]
    assert not A.action_masks(near, "player_0", ["unit_1"])[0, A.TRANSFER_ORE]
    assert not A.action_masks(_lone_robot_state(pos=(5, 2), cargo_ice=10), "player_0", ["unit_1"])[0, A.TRANSFER_ICE]
    # Pickup only on our factory and only when it gains enough.
    assert A.action_masks(_lone_robot_state(pos=(2, 3), power=500), "player_0", ["unit_1"])[0, A.PICKUP_POWER]
    assert not A.action_masks(_lone_robot_state(pos=(2, 3), power=2990), "player_0", ["unit_1"])[0, A.PICKUP_POWER]
    assert not A.action_masks(_lone_robot_state(power=500), "player_0", ["unit_1"])[0, A.PICKUP_POWER]


def test_power_rules_of_the_engine():
    # A heavy with 25 power: a new queue (10) leaves 15, short of a move (20). Already moving: it may go on.
    poor = _lone_robot_state(power=25)
    assert not A.action_masks(poor, "player_0", ["unit_1"])[0, 1:5].any()
    moving = _lone_robot_state(power=25, queue=[L.move(L.RIGHT, n=3)])
    mask = A.action_masks(moving, "player_0", ["unit_1"])[0]
    assert mask[A.MOVE_RIGHT] and not mask[A.MOVE_LEFT]
    # Map border.
    corner = _lone_robot_state(pos=(0, 9))
    mask = A.action_masks(corner, "player_0", ["unit_1"])[0]
    assert not mask[A.MOVE_LEFT] and not mask[A.MOVE_DOWN] and mask[A.MOVE_UP] and mask[A.MOVE_RIGHT]


def test_unchanged_queues_are_not_resent():
    digging = _lone_robot_state(ice=1, queue=[L.dig(n=5)])
    assert A.decode(digging, "player_0", ["unit_1"], [A.DIG]) == {}
    assert A.decode(digging, "player_0", ["unit_1"], [A.NOOP]) == {"unit_1": []}
    idle = _lone_robot_state()
    assert A.decode(idle, "player_0", ["unit_1"], [A.NOOP]) == {}
    out = A.decode(idle, "player_0", ["unit_1"], [A.MOVE_RIGHT])
    (queue,) = out["unit_1"]
    assert queue[0] == L.MOVE and queue[1] == L.RIGHT and 1 <= queue[5] <= 4  # a run to the board's edge
    moving = _lone_robot_state(queue=[queue])
    assert A.decode(moving, "player_0", ["unit_1"], [A.MOVE_RIGHT]) == {}


def test_a_move_run_keeps_the_power_to_replace_its_queue():
    # A heavy: a new queue costs 10, a move on flat ground 20. With 100 power, the queue and four moves leave 10,
    # the price of the next queue. With 95, four moves would leave 5, so the run stops at three.
    for power, run in ((100, 4), (95, 3), (35, 1)):
        state = _lone_robot_state(power=power, pos=(0, 5))
        (queue,) = A.decode(state, "player_0", ["unit_1"], [A.MOVE_RIGHT])["unit_1"]
        assert queue[0] == L.MOVE and queue[5] == run, (power, queue)


def test_a_run_the_robot_can_no_longer_pay_for_is_shortened():
    # Queued with 100 power, then power lost (say, in a collision): 35 power pays a new queue and one move
    # keeping 10, so the same move is re-sent as a shorter run instead of being rejected from the 2nd move on.
    state = _lone_robot_state(power=35, pos=(0, 5), queue=[L.move(L.RIGHT, n=4)])
    assert A.decode(state, "player_0", ["unit_1"], [A.MOVE_RIGHT]) == {"unit_1": [L.move(L.RIGHT, n=1)]}
    state = _lone_robot_state(power=100, pos=(0, 5), queue=[L.move(L.RIGHT, n=4)])
    assert A.decode(state, "player_0", ["unit_1"], [A.MOVE_RIGHT]) == {}  # still paid for: left alone
    # Digs likewise: 70 power keeps 10 for a queue, so the 5 queued digs (60 each) become one.
    state = _lone_robot_state(power=70, ice=1, queue=[L.dig(n=5)])
    assert A.decode(state, "player_0", ["unit_1"], [A.DIG]) == {"unit_1": [L.dig(n=1)]}


def test_dig_run_stops_when_the_cargo_is_full():
    state = _lone_robot_state(ice=1, cargo_ice=900)  # heavy digs 20 ice a turn: 5 digs fill it
    (queue,) = A.decode(state, "player_0", ["unit_1"], [A.DIG])["unit_1"]
    assert queue[0] == L.DIG and queue[5] == 5


def test_collision_resolution_on_a_crowd():
    state = _lone_robot_state(pos=(5, 5))
    cfg = state.units["player_0"]["unit_1"].cfg
    units = state.units["player_0"]
    for i, pos in enumerate([(6, 5), (7, 5), (6, 4)]):
        uid = "unit_%d" % (i + 2)
        units[uid] = dataclasses.replace(units["unit_1"], unit_id=uid, pos=np.array(pos), cfg=cfg, action_queue=[])
    # unit_1 -> (6,5) occupied by unit_2 which moves right into unit_3 (staying): unit_2 must stay, so must unit_1.
    # unit_4 moves down into (6,5) as well: blocked.
    out = A.decode(state, "player_0", ["unit_1", "unit_2", "unit_3", "unit_4"],
                   [A.MOVE_RIGHT, A.MOVE_RIGHT, A.NOOP, A.MOVE_DOWN])
    assert out == {}
    # When unit_3 leaves first, the whole line may move.
    out = A.decode(state, "player_0", ["unit_3", "unit_2", "unit_1", "unit_4"],
                   [A.MOVE_RIGHT, A.MOVE_RIGHT, A.MOVE_RIGHT, A.MOVE_DOWN])
    assert set(out) == {"unit_3", "unit_2", "unit_1"}


def _add_robot(state, uid, pos, unit_type="LIGHT", power=150):
    """A copy of unit_1 with another id, position, type and power (config from a real light or heavy)."""
    units = state.units["player_0"]
    cfg = GameConfig(map_size=10).ROBOTS[unit_type]
    units[uid] = dataclasses.replace(units["unit_1"], unit_id=uid, unit_type=unit_type, pos=np.array(pos), cfg=cfg,
                                     power=power, action_queue=[])


def test_an_idle_light_steps_aside_for_a_mover():
    # A heavy at (4, 2), next to the factory at (2, 2), wants onto the factory tile (3, 2) where a light idles.
    state = _lone_robot_state(pos=(4, 2), power=500)
    _add_robot(state, "unit_2", (3, 2))
    out = A.decode(state, "player_0", ["unit_1", "unit_2"], [A.MOVE_LEFT, A.NOOP])
    assert out["unit_1"][0][:2] == [L.MOVE, L.LEFT]
    light_move = out["unit_2"][0]
    assert light_move[0] == L.MOVE and light_move[1] in (L.UP, L.DOWN)  # not onto the centre (2, 2), nor back
    # The light's tile after its move is free of our robots, so the engine sees no collision.
    dx, dy = L.DIRECTION_DELTAS[light_move[1]]
    assert (3 + dx, 2 + dy) not in {(4, 2), (3, 2)}
    # A light that is busy (digging), a heavy, or a light with no power for a step stays; the mover waits.
    for unit_type, power, choice in (("LIGHT", 150, A.DIG), ("HEAVY", 500, A.NOOP), ("LIGHT", 2, A.NOOP)):
        state = _lone_robot_state(pos=(4, 2), power=500)
        _add_robot(state, "unit_2", (3, 2), unit_type=unit_type, power=power)
        out = A.decode(state, "player_0", ["unit_1", "unit_2"], [A.MOVE_LEFT, choice])
        assert "unit_1" not in out, (unit_type, power, choice, out)
        assert not out.get("unit_2") or out["unit_2"][0][0] != L.MOVE


def test_a_light_steps_aside_only_to_a_free_tile():
    # The light at (3, 5) on open ground, boxed in: (3, 4) and (3, 6) held by idle heavies, (2, 5) wanted by a
    # third heavy. Its only way out would be the mover's own tile (4, 5), a swap the engine would not allow.
    state = _lone_robot_state(pos=(4, 5), power=500)
    _add_robot(state, "unit_2", (3, 5))
    _add_robot(state, "unit_3", (3, 4), unit_type="HEAVY", power=500)
    _add_robot(state, "unit_4", (3, 6), unit_type="HEAVY", power=500)
    _add_robot(state, "unit_5", (1, 5), unit_type="HEAVY", power=500)
    out = A.decode(state, "player_0", ["unit_1", "unit_2", "unit_3", "unit_4", "unit_5"],
                   [A.MOVE_LEFT, A.NOOP, A.NOOP, A.NOOP, A.MOVE_RIGHT])
    assert "unit_1" not in out and "unit_2" not in out
    assert out["unit_5"][0][:2] == [L.MOVE, L.RIGHT]


def test_bad_decode_input_is_an_error():
    state = _lone_robot_state()
    with pytest.raises(ValueError, match="1 robots"):
        A.decode(state, "player_0", ["unit_1"], [0, 1])
    with pytest.raises(ValueError, match="0..%d" % (A.N_ACTIONS - 1)):
        A.decode(state, "player_0", ["unit_1"], [42])
    with pytest.raises(KeyError):
        A.action_masks(state, "player_0", ["unit_99"])


def test_encode_masks_match_action_masks(game48):
    state = game48.states[-1]
    f = encode(state, "player_1")
    assert np.array_equal(f.action_mask, A.action_masks(state, "player_1", f.unit_ids))


def _walker_state(pos=(5, 5), power=3000, queue=(), ice_at=(7, 8)):
    """10x10 board, our factory at (2, 2), one heavy, one ice tile."""
    board = boards.empty_board(10)
    board["ice"][ice_at] = 1
    unit = boards.robot(pos, power=power, queue=queue)
    obs = boards.observation(board, {"unit_1": unit}, {"factory_0": boards.factory((2, 2))})
    return GameState.from_obs(obs, GameConfig(map_size=10))


def test_go_masks_follow_the_target_tiles():
    mask = A.action_masks(_walker_state(), "player_0", ["unit_1"])[0]
    assert mask[A.GO_ICE] and mask[A.GO_HOME]
    assert not mask[A.GO_ORE] and not mask[A.GO_RUBBLE]  # no ore, no rubble on this board
    on_ice = A.action_masks(_walker_state(pos=(7, 8)), "player_0", ["unit_1"])[0]
    assert not on_ice[A.GO_ICE] and on_ice[A.DIG]
    # A heavy that cannot pay a new queue and the first step cannot walk either.
    assert not A.action_masks(_walker_state(power=25), "player_0", ["unit_1"])[0, A.GO_ICE]


def test_a_go_action_queues_the_walk_and_keeps_it():
    # From (5, 5) to the ice at (7, 8), direction_to's steps: down (|dy| > |dx|), right, down, right, down.
    state = _walker_state()
    (first, *rest) = A.decode(state, "player_0", ["unit_1"], [A.GO_ICE])["unit_1"]
    assert first[:2] == [L.MOVE, L.DOWN]
    assert [q[1] for q in rest] == [L.RIGHT, L.DOWN, L.RIGHT, L.DOWN]
    # One step on, with the rest of that walk queued: walking on keeps the queue (no power spent on a new one).
    walking = _walker_state(pos=(5, 6), queue=rest)
    assert A.decode(walking, "player_0", ["unit_1"], [A.GO_ICE]) == {}
    # The same move chosen as a plain move also keeps it; going home (to (3, 3): up first) replaces it.
    assert A.decode(walking, "player_0", ["unit_1"], [A.MOVE_RIGHT]) == {}
    assert A.decode(walking, "player_0", ["unit_1"], [A.GO_HOME])["unit_1"][0][:2] == [L.MOVE, L.UP]
    # Targets passed in (as Features.targets) are used as given.
    out = A.decode(state, "player_0", ["unit_1"], [A.GO_ICE], {"ice": [(5, 9)]})
    assert out["unit_1"][0][:2] == [L.MOVE, L.DOWN] and len(out["unit_1"]) == 4
    # A walk only queues the moves it can pay for, keeping the power of a new queue: 10 + 20 for the first
    # step, 20 for one more, 10 kept.
    (first, *rest) = A.decode(_walker_state(power=60), "player_0", ["unit_1"], [A.GO_ICE])["unit_1"]
    assert len(rest) == 1


def test_a_blocked_walker_side_steps_and_a_blocked_move_waits():
    # unit_1 at (5, 5) walks down toward the ice at (5, 9); an idle heavy holds (5, 6).
    for action, expected in ((A.GO_ICE, {L.LEFT, L.RIGHT}), (A.MOVE_DOWN, None)):
        state = _walker_state(ice_at=(5, 9))
        _add_robot(state, "unit_2", (5, 6), unit_type="HEAVY", power=500)
        out = A.decode(state, "player_0", ["unit_1", "unit_2"], [action, A.NOOP])
        if expected is None:
            assert "unit_1" not in out
        else:
            assert out["unit_1"][0][0] == L.MOVE and out["unit_1"][0][1] in expected


def test_movers_in_a_line_all_move_whatever_their_order():
    # Three robots in a row walking right, listed back to front: the front one moves first in the first pass.
    state = _lone_robot_state(pos=(3, 5))
    for i, pos in enumerate([(4, 5), (5, 5)]):
        _add_robot(state, "unit_%d" % (i + 2), pos, unit_type="HEAVY", power=3000)
    out = A.decode(state, "player_0", ["unit_1", "unit_2", "unit_3"], [A.MOVE_RIGHT] * 3)
    assert {uid: q[0][:2] for uid, q in out.items()} == {u: [L.MOVE, L.RIGHT] for u in ("unit_1", "unit_2", "unit_3")}
