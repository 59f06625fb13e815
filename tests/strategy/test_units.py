"""The heuristic controller in real games: no own collisions, no invalid actions, factories kept alive."""
import numpy as np
import pytest

from lux import actions as A
from lux.config import GameConfig
from lux.state import GameState
from strategy.units import HeuristicUnitController
from tests.game import KAGGLE, NEURIPS, ActionCounter, play_to_end
from tests.helpers import boards
from tests.helpers.boards import enemy_robot as enemy


def next_tile(unit, queue):
    """Where a robot will be after this step, given the queue it will run."""
    if queue and int(queue[0][0]) == A.MOVE:
        return tuple(int(v) for v in unit.pos + A.DIRECTION_DELTAS[int(queue[0][1])])
    return tuple(int(v) for v in unit.pos)


@pytest.mark.parametrize("game", [KAGGLE, NEURIPS], ids=["kaggle", "neurips"])
def test_no_own_collisions_and_no_invalid_actions(game):
    collisions = []

    def check(env, states, actions):
        for player, state in states.items():
            tiles = []
            for uid, unit in state.units[player].items():
                queue = actions[player].get(uid, unit.action_queue)
                tiles.append(next_tile(unit, queue))
            if len(tiles) != len(set(tiles)):
                collisions.append((state.real_env_steps, player))

    with ActionCounter() as invalid:
        env, step = play_to_end(seed=4, game=game, steps=300, on_step=check)
    assert collisions == []
    assert invalid.count == 0
    assert step == 300
    assert all(len(f) > 0 for f in env.state.factories.values())


def test_miners_deliver_ice():
    env, _ = play_to_end(seed=6, game=KAGGLE, steps=200)
    # Starting water per factory is at most a few hundred; after 200 steps of upkeep the stock only stays up
    # when ice was delivered and refined.
    water = [f.cargo.water for fs in env.state.factories.values() for f in fs.values()]
    assert water and np.mean(water) > 100


def synthetic_state(units, ice_tiles, n=16):
    """One factory of ours at (4, 8) with plenty of water, our robots, and ice where given."""
    from lux.config import GameConfig
    from lux.state import GameState

    zeros = np.zeros((n, n), dtype=np.int64)
    ice = zeros.copy()
    for x, y in ice_tiles:
        ice[x, y] = 1
    factory = {"unit_id": "factory_0", "team_id": 0, "strain_id": 0, "pos": [4, 8], "power": 500,
               "cargo": {"ice": 0, "ore": 0, "water": 500, "metal": 0}}
    robots = {}
    for i, (kind, pos, power) in enumerate(units):
        uid = "unit_%d" % (i + 10)
        robots[uid] = {"unit_id": uid, "team_id": 0, "unit_type": kind, "pos": list(pos), "power": power,
                       "cargo": {"ice": 0, "ore": 0, "water": 0, "metal": 0}, "action_queue": []}
    obs = {"board": dict(rubble=zeros, ice=ice, ore=zeros, lichen=zeros, lichen_strains=zeros - 1,
                         factories_per_team=1),
           "units": {"player_0": robots, "player_1": {}},
           "factories": {"player_0": {"factory_0": factory}, "player_1": {}}, "teams": {}, "real_env_steps": 50}
    return GameState.from_obs(obs, GameConfig())


def test_two_robots_never_claim_the_same_tile():
    from strategy.units import HeuristicUnitController

    # Two heavies equally far from the only ice tile, on either side of it.
    state = synthetic_state([("HEAVY", (8, 7), 3000), ("HEAVY", (8, 9), 3000)], ice_tiles=[(8, 8)])
    out = HeuristicUnitController().act(state, "player_0")
    tiles = [next_tile(u, out.get(uid, u.action_queue)) for uid, u in state.units["player_0"].items()]
    assert len(set(tiles)) == 2
    assert tiles.count((8, 8)) == 1  # one of them goes for the ice


def test_a_robot_that_cannot_pay_for_a_new_queue_gets_none():
    from strategy.units import HeuristicUnitController

    # The heavy would walk to the ice, but replacing its queue costs 10 power it does not have.
    state = synthetic_state([("HEAVY", (12, 8), 9), ("HEAVY", (12, 4), 3000)], ice_tiles=[(8, 8), (8, 3)])
    out = HeuristicUnitController().act(state, "player_0")
    assert "unit_10" not in out and "unit_11" in out


def test_a_blocked_heavy_on_its_way_home_waits_instead_of_stepping_back():
    # Home's footprint is x 3-5, y 7-9. The heavy at (10, 10) is full of ice; both moves that bring it nearer,
    # left and up, are taken by lights of ours that cannot move (no power). It must not step away (down or
    # right): a heavy did that, back and forth, until its power was gone and its factory ran dry.
    state = synthetic_state([("HEAVY", (10, 10), 400), ("LIGHT", (9, 10), 0), ("LIGHT", (10, 9), 0)],
                            ice_tiles=[(12, 12)])
    state.units["player_0"]["unit_10"].cargo.ice = 1000
    home = state.factories["player_0"]["factory_0"]
    out = HeuristicUnitController().act(state, "player_0")
    heavy = state.units["player_0"]["unit_10"]
    after = next_tile(heavy, out.get("unit_10", heavy.action_queue))
    assert home.distance_to(np.array(after)) <= home.distance_to(heavy.pos)


def test_a_heavy_goes_round_a_robot_on_the_factory_tile_next_to_it():
    # The heavy at (6, 9), low on power, goes home for more. It is next to home's footprint (x 3-5, y 7-9) at
    # (5, 9), where a light of ours without power stands. (6, 8) is as near home: it goes there (a heavy that
    # waited instead sat beside a factory holding thousands of power for 300 steps, and the factory ran dry).
    state = synthetic_state([("HEAVY", (6, 9), 100), ("LIGHT", (5, 9), 0)], ice_tiles=[(12, 12)])
    out = HeuristicUnitController().act(state, "player_0")
    assert out["unit_10"][0][:2] == [A.MOVE, A.UP]


def test_a_heavy_walks_round_rubble_on_its_way_home():
    # Straight left from (10, 8) crosses rubble; a heavy pays 20 + rubble a move, so it goes round.
    state = synthetic_state([("HEAVY", (10, 8), 3000)], ice_tiles=[(12, 12)])
    state.units["player_0"]["unit_10"].cargo.ice = 1000
    state.board.rubble[6:10, 7:10] = 100
    out = HeuristicUnitController().act(state, "player_0")
    queue = out["unit_10"]
    assert queue[0][:2] in ([A.MOVE, A.UP], [A.MOVE, A.DOWN])
    x, y = 10, 8
    for action in queue:  # the queued walk stays off the rubble
        x, y = x + A.DIRECTION_STEPS[action[1]][0], y + A.DIRECTION_STEPS[action[1]][1]
        assert state.board.rubble[x, y] == 0


def two_factory_state(heavy_pos, ice_cargo, step):
    """Factories factory_0 at (4, 8) and factory_2 at (14, 8), and one heavy of ours."""
    from lux.config import GameConfig
    from lux.state import GameState

    n = 20
    zeros = np.zeros((n, n), dtype=np.int64)
    factories = {}
    for fid, x in (("factory_0", 4), ("factory_2", 14)):
        factories[fid] = {"unit_id": fid, "team_id": 0, "strain_id": int(fid[-1]), "pos": [x, 8], "power": 500,
                          "cargo": {"ice": 0, "ore": 0, "water": 300, "metal": 0}}
    heavy = {"unit_id": "unit_9", "team_id": 0, "unit_type": "HEAVY", "pos": list(heavy_pos), "power": 2000,
             "cargo": {"ice": ice_cargo, "ore": 0, "water": 0, "metal": 0}, "action_queue": []}
    obs = {"board": dict(rubble=zeros, ice=zeros, ore=zeros, lichen=zeros, lichen_strains=zeros - 1,
                         factories_per_team=2),
           "units": {"player_0": {"unit_9": heavy}, "player_1": {}},
           "factories": {"player_0": factories, "player_1": {}}, "teams": {}, "real_env_steps": step}
    return GameState.from_obs(obs, GameConfig())


def test_a_robot_delivers_to_the_factory_that_built_it_until_a_new_game():
    from strategy.units import HeuristicUnitController

    controller = HeuristicUnitController()
    controller.act(two_factory_state((4, 8), 0, step=10), "player_0")  # born on factory_0's centre
    # Later, full of ice and nearer factory_2: it still walks back to factory_0 (left).
    out = controller.act(two_factory_state((10, 8), 1000, step=40), "player_0")
    assert out["unit_9"][0][:2] == [A.MOVE, A.LEFT]
    # The same id in a new game (the step went back) has no remembered home: it goes to the nearest.
    out = controller.act(two_factory_state((10, 8), 1000, step=5), "player_0")
    assert out["unit_9"][0][:2] == [A.MOVE, A.RIGHT]


def light_home_state(home_metal: int, home_water: int = 500, enemy_lichen=None):
    """One factory at (4, 8) holding `home_metal` and `home_water`, a light next to it, an ore tile and a rubble
    tile equally far from the light (ore at (9, 8), rubble at (6, 12)); `enemy_lichen`: (tile, amount) of the
    enemy's strain 1."""
    from lux.config import GameConfig
    from lux.state import GameState

    n = 20
    zeros = np.zeros((n, n), dtype=np.int64)
    ore, rubble = zeros.copy(), zeros.copy()
    ore[9, 8] = 1
    rubble[6, 12] = 40
    lichen, strains, teams = zeros.copy(), zeros - 1, {}
    if enemy_lichen is not None:
        (tile, amount) = enemy_lichen
        lichen[tile], strains[tile] = amount, 1
        teams = {"player_0": {"team_id": 0, "factory_strains": [0]}, "player_1": {"team_id": 1, "factory_strains": [1]}}
    factory = {"unit_id": "factory_0", "team_id": 0, "strain_id": 0, "pos": [4, 8], "power": 500,
               "cargo": {"ice": 0, "ore": 0, "water": home_water, "metal": home_metal}}
    light = {"unit_id": "unit_5", "team_id": 0, "unit_type": "LIGHT", "pos": [6, 8], "power": 150,
             "cargo": {"ice": 0, "ore": 0, "water": 0, "metal": 0}, "action_queue": []}
    obs = {"board": dict(rubble=rubble, ice=zeros, ore=ore, lichen=lichen, lichen_strains=strains,
                         factories_per_team=1),
           "units": {"player_0": {"unit_5": light}, "player_1": {}},
           "factories": {"player_0": {"factory_0": factory}, "player_1": {}}, "teams": teams, "real_env_steps": 100}
    return GameState.from_obs(obs, GameConfig())


def test_a_light_clears_rubble_once_home_has_the_metal_for_a_heavy():
    from strategy.units import RUBBLE_METAL, HeuristicUnitController

    # Short of the metal: ore, to the right. With it: the rubble within reach of home, down.
    out = HeuristicUnitController().act(light_home_state(RUBBLE_METAL - 1), "player_0")
    assert out["unit_5"][0][:2] == [A.MOVE, A.RIGHT]
    out = HeuristicUnitController().act(light_home_state(RUBBLE_METAL), "player_0")
    assert out["unit_5"][0][:2] == [A.MOVE, A.DOWN]
    # The controller without the rubble rule keeps mining ore.
    out = HeuristicUnitController(rubble_metal=None).act(light_home_state(RUBBLE_METAL), "player_0")
    assert out["unit_5"][0][:2] == [A.MOVE, A.RIGHT]


def test_a_light_clears_rubble_when_home_has_water_to_spare():
    from strategy.units import RICH_WATER, HeuristicUnitController

    out = HeuristicUnitController().act(light_home_state(0, home_water=RICH_WATER - 1), "player_0")
    assert out["unit_5"][0][:2] == [A.MOVE, A.RIGHT]  # ore
    out = HeuristicUnitController().act(light_home_state(0, home_water=RICH_WATER), "player_0")
    assert out["unit_5"][0][:2] == [A.MOVE, A.DOWN]  # rubble: lichen is short of room, not of water


def _one_turn_state(units, enemy_units, lichen=()):
    board = boards.empty_board(16)
    board["ore"][6, 2] = 10
    for tile in lichen:
        board["lichen"][tile], board["lichen_strains"][tile] = 50, 0
    obs = boards.observation(board, units, {"factory_0": boards.factory((2, 2), metal=0, water=500)},
                             enemy_units=enemy_units)
    return GameState.from_obs(obs, GameConfig(map_size=16))


def test_a_threatened_miner_steps_away_and_comes_back_when_safe():
    miner = {"unit_1": boards.robot((6, 2), "LIGHT", power=140)}
    threatened = _one_turn_state(miner, {"unit_9": enemy((7, 2))})
    plan = HeuristicUnitController().plan(threatened, "player_0")["unit_1"]
    assert plan[0] == A.MOVE and plan[1] != A.RIGHT  # away from the enemy light, not into it
    blind = HeuristicUnitController(safety=False).plan(threatened, "player_0")["unit_1"]
    assert blind[0] == A.DIG  # without the rule it keeps digging where it can be destroyed
    calm = _one_turn_state(miner, {"unit_9": enemy((12, 12))})
    assert HeuristicUnitController().plan(calm, "player_0")["unit_1"][0] == A.DIG


def test_a_robot_steps_onto_an_enemy_light_on_our_lichen():
    state = _one_turn_state({"unit_1": boards.robot((6, 4), "HEAVY", power=1000)},
                            {"unit_9": enemy((6, 6), power=20)}, lichen=[(6, 6)])
    assert HeuristicUnitController(defence=True).plan(state, "player_0")["unit_1"] == A.move(A.DOWN)
    assert HeuristicUnitController(defence=False).plan(state, "player_0")["unit_1"] != A.move(A.DOWN)


def _heavies_state(metal, water=200, enemies=None, lichen=()):
    """Our factory at (2, 2) holding `metal`, three heavies of ours beside it (unit_1..unit_3), ice at (2, 6) and
    (2, 7), ore at (6, 2) and (7, 2) (every robot claims a tile of each kind, whatever it is sent for)."""
    board = boards.empty_board(16)
    board["ore"][6, 2] = board["ore"][7, 2] = 10
    board["ice"][2, 6] = board["ice"][2, 7] = 10
    for tile in lichen:
        board["lichen"][tile], board["lichen_strains"][tile] = 50, 0
    heavies = {"unit_%d" % i: boards.robot((4, i + 3), "HEAVY", power=2000) for i in (1, 2, 3)}
    obs = boards.observation(board, heavies, {"factory_0": boards.factory((2, 2), metal=metal, water=water)},
                             step=100, enemy_units=enemies)
    return GameState.from_obs(obs, GameConfig(map_size=16))


def test_the_ore_heavy_walks_to_ore_and_the_ice_heavy_to_ice():
    # Roles themselves: tests/lux/test_roles.py.
    controller = HeuristicUnitController()
    controller.plan(_heavies_state(metal=0), "player_0")
    goals, _ = controller.intentions()
    assert goals["unit_2"] in {(6, 2), (7, 2)}
    assert goals["unit_1"] in {(2, 6), (2, 7)}


def test_only_guard_heavies_go_for_an_enemy_light_on_our_lichen():
    # An enemy light two tiles from every heavy, on our lichen.
    state = _heavies_state(metal=500, enemies={"unit_9": enemy((6, 5), power=20)}, lichen=[(6, 5)])
    plan = HeuristicUnitController().plan(state, "player_0")
    assert plan["unit_3"] == A.move(A.RIGHT)  # the guard (at (4, 6)) steps toward it
    assert plan["unit_1"] != A.move(A.RIGHT) and plan["unit_2"] != A.move(A.RIGHT)
    assert HeuristicUnitController(guards=False).plan(state, "player_0")["unit_3"] != A.move(A.RIGHT)


def test_an_ore_heavy_brings_its_ore_home_once_it_pays_for_a_heavy():
    board = boards.empty_board(16)
    board["ore"][7, 2] = 10  # 4 tiles from the footprint: within a heavy's reach
    home = {"factory_0": boards.factory((2, 2), metal=10, water=200)}

    def plan(ore):
        obs = boards.observation(board, {"unit_1": boards.robot((7, 2), "HEAVY", power=2000, ore=ore)}, home,
                                 step=20)
        return HeuristicUnitController().plan(GameState.from_obs(obs, GameConfig(map_size=16)), "player_0")["unit_1"]

    assert plan(ore=100)[0] == A.DIG  # 10 + 20 metal: not yet
    assert plan(ore=450) == A.move(A.LEFT)  # 10 + 90 metal: home


def test_a_heavy_leaves_ore_by_the_enemys_factory_alone_and_far_ore_to_a_home_short_of_power():
    from lux.roles import FAR_ORE_POWER

    def goal(enemy_factory, power=FAR_ORE_POWER, ore_heavies_first=False):
        board = boards.empty_board(20)
        board["ore"][10, 2] = 10  # 7 tiles from our footprint
        heavy = boards.robot((4, 2), "HEAVY", power=2000)
        obs = boards.observation(board, {"unit_1": heavy},
                                 {"factory_0": boards.factory((2, 2), metal=10, water=200, power=power)}, step=20)
        if enemy_factory:
            enemy = boards.factory((12, 3))  # its footprint is next to the ore
            enemy.update(team_id=1, strain_id=1)
            obs["factories"]["player_1"] = {"factory_1": enemy}
        controller = HeuristicUnitController(ore_heavies_first=ore_heavies_first)
        controller.plan(GameState.from_obs(obs, GameConfig(map_size=20)), "player_0")
        return controller.intentions()[0].get("unit_1")

    assert goal(enemy_factory=False) == (10, 2)  # the home's only heavy goes for the ore
    assert goal(enemy_factory=True) != (10, 2)
    # With the ore heavies' first pick, far ore only from a home with power to spare.
    assert goal(enemy_factory=False, ore_heavies_first=True) == (10, 2)
    assert goal(enemy_factory=False, power=FAR_ORE_POWER - 1) == (10, 2)
    assert goal(enemy_factory=False, power=FAR_ORE_POWER - 1, ore_heavies_first=True) != (10, 2)


def test_guard_heavies_dig_the_enemys_lichen_at_the_end():
    from strategy.units import HEAVY_RAID_FROM_STEP, LAST_RAID_STEPS, LAST_RAID_WATER_PER_STEP

    # Three heavies at home (the third a guard), enemy lichen five tiles from it.
    def plan(step, water=500):
        board = boards.empty_board(16)
        board["lichen"][9, 6], board["lichen_strains"][9, 6] = 80, 7
        board["lichen"][9, 7], board["lichen_strains"][9, 7] = 80, 7
        heavies = {"unit_%d" % i: boards.robot((4, i + 3), "HEAVY", power=2000) for i in (1, 2, 3)}
        obs = boards.observation(board, heavies, {"factory_0": boards.factory((2, 2), metal=0, water=water)},
                                 step=step)
        controller = HeuristicUnitController()
        controller.plan(GameState.from_obs(obs, GameConfig(map_size=16)), "player_0")
        return controller.intentions()[0]

    assert plan(HEAVY_RAID_FROM_STEP).get("unit_3") == (9, 6)
    assert plan(HEAVY_RAID_FROM_STEP - 1).get("unit_3") != (9, 6)
    assert plan(HEAVY_RAID_FROM_STEP).get("unit_1") not in {(9, 6), (9, 7)}  # the ice heavy keeps bringing ice
    # In the last steps the ice heavies raid too, when home has the water to keep watering to the end.
    last = 1000 - LAST_RAID_STEPS
    assert plan(last, water=LAST_RAID_STEPS * LAST_RAID_WATER_PER_STEP).get("unit_1") in {(9, 6), (9, 7)}
    assert plan(last, water=LAST_RAID_STEPS * LAST_RAID_WATER_PER_STEP - 1).get("unit_1") not in {(9, 6), (9, 7)}


def test_a_light_with_empty_cargo_goes_for_an_enemy_light_on_our_lichen():
    # Our light two tiles above an enemy light (less power) standing on our lichen; no guard heavy anywhere.
    def plan(cargo_ore=0, **options):
        state = _one_turn_state({"unit_1": boards.robot((6, 4), "LIGHT", power=140, ore=cargo_ore)},
                                {"unit_9": enemy((6, 6), power=20)}, lichen=[(6, 6)])
        return HeuristicUnitController(**options).plan(state, "player_0")["unit_1"]

    assert plan() == A.move(A.DOWN)
    assert plan(light_guards=False) != A.move(A.DOWN)
    assert plan(cargo_ore=10) != A.move(A.DOWN)  # a light bringing ore home keeps going


def test_a_light_digs_away_the_enemys_lichen_next_to_home_when_home_has_water_to_spare():
    from strategy.units import RICH_WATER, HeuristicUnitController

    # The enemy's lichen (strain 1, 30 lichen) under our light, next to home; ore to the right, rubble below.
    out = HeuristicUnitController().act(light_home_state(0, RICH_WATER, enemy_lichen=((6, 8), 30)), "player_0")
    assert out["unit_5"][0][0] == A.DIG and out["unit_5"][0][5] == 3  # three digs of 10 take it all
    # Water short: the light goes for ore (right), it does not stay to dig.
    out = HeuristicUnitController().act(light_home_state(0, RICH_WATER - 1, enemy_lichen=((6, 8), 30)), "player_0")
    assert out["unit_5"][0][:2] == [A.MOVE, A.RIGHT]


def test_an_ice_heavy_next_to_an_enemy_light_on_our_lichen_steps_onto_it():
    # One heavy at home (its ice miner), an enemy light on our lichen next to it; two tiles away it keeps working.
    def plan(enemy_at):
        state = _heavies_state(metal=0, enemies={"unit_9": enemy(enemy_at, power=20)}, lichen=[enemy_at])
        del state.units["player_0"]["unit_2"], state.units["player_0"]["unit_3"]
        return HeuristicUnitController().plan(state, "player_0")["unit_1"]  # unit_1 at (4, 4)

    assert plan((5, 4)) == A.move(A.RIGHT)
    assert plan((6, 4)) != A.move(A.RIGHT)
