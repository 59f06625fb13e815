"""The heuristic unit controller: miners and rubble clearers that work next to home, deliver, recharge, and never
collide.

It is the fallback when no trained policy is available and the baseline opponent in training and evaluation.
A home's heavies have roles (`lux.roles`): the first mines ice (ore at the start, until a second heavy is paid
for), the second ore while metal is short (until `lux.roles.ORE_UNTIL_STEP`), the rest guard our lichen against
enemy robots, with the lights that carry nothing;
late in the game every robot but the ice miners does, and at the very end the guards dig the enemy's lichen.
Lights mine ore (ice when home water runs low) until home holds the metal for a heavy, or the water for more
lichen than it has room for (RICH_WATER), then clear rubble and the enemy's lichen near home: lichen only spreads
onto tiles without rubble and not next to another strain. Each robot walks to its own
tile of each kind, the one `lux.resources.target_tiles` gives it (and the policy's features show), so the policy
imitates walks it can see.
A robot goes home to deliver when its cargo is full or its power only just covers the way back plus a margin,
and picks up power there. Walks follow the least-power way (`lux.paths.walk_costs`) and never step back.
Our own robots never move into the same tile, nor into a tile where one of ours stays.
Queues cost power to replace, so a robot's queue is only replaced when its next action would change.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from lux import actions as A
from lux.homes import RobotHomes, home_factories
from lux.moves import Mover, TileClaims, place_movers
from lux.paths import moves_after_first_step, side_steps, steps_downhill, steps_level, walk_ahead
from lux.resources import TARGET_KINDS, target_tiles
from lux.roles import GUARD, ICE, LOW_WATER, ORE, ORE_UNTIL_STEP, ore_reach_of_heavy, step_roles
from lux.state import Board, Factory, GameState, Unit
from lux.tactics import STRIKE_RANGE, interceptors, lichen_intruders, raid_tiles
from lux.turn import TurnView, view_of

Tile = Tuple[int, int]
_DELTAS = A.DIRECTION_STEPS
THIRSTY_WATER = 40  # below this, robots bring home the ice they carry at once
# Home metal from which lights clear rubble near home instead of mining ore: the price of a heavy. Measured in
# 88 in-process games against the same controller mining ore throughout (docs/results/rubble_heuristic.md).
RUBBLE_METAL = 100
HEAVY_ORE_WATER = 300  # home water from which a heavy mines ore while home metal is below HEAVY_ORE_METAL
HEAVY_ORE_METAL = 100  # the price of a heavy
# Home water from which lichen is short of room, not of water: heavies (but the ore heavy) and lights clear rubble
# before they mine ore. A factory ended a game against the 15th-place bot with 1,145 water and 75 lichen tiles,
# its robots mining ore for metal that never reached a heavy's price.
RICH_WATER = 600
RAID_POWER = 30  # power a light keeps for digging on top of the walk home before it is sent raiding
# Roles of a home's heavies (`lux.roles`): the first brings ice, the second ore (while metal is short), the rest
# guard our lichen: they go for enemy robots on it (`lux.tactics.interceptors`), and mine when none is there.
# From this step on every robot defends our lichen, not only the guards: sparring partners send their raiders in
# the last few hundred steps (37 enemy robots stood on our lichen at step 900 of one game), when mining more
# matters less than keeping the lichen that scores.
DEFEND_ALL_FROM_STEP = 650
# From this step on the guard heavies dig the enemy's lichen instead of guarding ours: a heavy's dig takes 100
# lichen, a whole tile, where a light's takes 10; the 15th-place bot's lichen grew unguarded by the dozens of tiles
# every 100 steps late in its games.
HEAVY_RAID_FROM_STEP = 850
HEAVY_RAID_POWER = 400  # power a guard heavy needs to be sent raiding (walks of up to RAID_RANGE, then digs)
# In the last steps every heavy raids whose home holds the water to keep watering to the end (this much a step
# left): ice brought in now would only add water that is not needed.
LAST_RAID_STEPS = 50
LAST_RAID_WATER_PER_STEP = 15


class HeuristicUnitController:
    """Remembers each robot's home factory over the turns of a game (`lux.homes.RobotHomes`: a robot serves the
    factory that built it, even when its walk to the ice passes nearer another one). One instance may play both
    seats and any number of games in a row: a step earlier than the last one seen starts a new game."""

    def __init__(self, rubble_metal: Optional[int] = RUBBLE_METAL, safety: bool = True, defence: bool = False,
                 raids: bool = True, guards: bool = True, light_guards: bool = True,
                 defend_all_from: Optional[int] = DEFEND_ALL_FROM_STEP, ore_heavies_first: bool = False) -> None:
        # Lights whose home holds at least this much metal clear rubble near it instead of mining more ore
        # (None: never; they clear rubble only when no ore tile is free, the controller before RUBBLE_METAL).
        self.rubble_metal = rubble_metal
        # Robots do not end a step where an enemy robot could move and destroy them (`TurnView.dodges`).
        self.safety = safety
        # Robots step onto enemy robots on our lichen when they win that collision (`lux.tactics.interceptors`).
        # Off by default: against an opponent that dodges it lost 8 of 10 in-process games to the controller
        # without it (docs/results/opponent_play.md); the hunters leave their work and the prey steps away.
        self.defence = defence
        # The heavies spare from mining (GUARD) go for enemy robots on our lichen: no miner leaves its work.
        self.guards = guards
        # Lights with empty cargo guard too, from the first step: before step 650 the 15th-place bot's lights dug
        # away the lichen of two of our four factories while no heavy was spare to guard.
        self.light_guards = light_guards
        # From this step on, `defence` for every robot (None: never).
        self.defend_all_from = defend_all_from
        # Late in the game, lights with power to spare dig the enemy's lichen (`lux.tactics.raid_tiles`).
        self.raids = raids
        # The ore heavies claim the ore within their reach before the lights (`lux.roles.ore_reach_of_heavy`).
        # Off: against the 15th-place bot it won 1 of 5 games (seeds 0-2), the controller without it 2 of the same
        # 5 (docs/results/opponent_play.md). Without it an ore heavy often finds no tile and brings ice.
        self.ore_heavies_first = ore_heavies_first
        # Read by whoever encodes the policy's features for the same games (imitation: they must agree on homes).
        self.homes = RobotHomes()
        self._goals: Dict[str, Tile] = {}  # robot id -> the tile its current plan walks to
        # robot id -> the tiles its walk ends on (its home's nine when going home), for the least-power walk
        self._walks: Dict[str, Tuple[Tile, ...]] = {}
        # robot id -> the tile it stood on last turn: a walker going round a blocked step never steps back there
        self._last_tiles: Dict[str, Tile] = {}
        self._tiles_now: Dict[str, Tile] = {}
        self._last_step = -1
        self._wanted: Dict[str, int] = {}  # robot id -> the direction it wanted to move before collisions

    def act(self, state: GameState, player: str, plans: Optional[Dict[str, List[int]]] = None
            ) -> Dict[str, List[List[int]]]:
        """New action queues for the robots whose next action changes (`plans`: this step's `plan`, when the
        caller has it already)."""
        plans = self.plan(state, player) if plans is None else plans
        if not plans:
            return {}
        return self._queues(view_of(state, player), list(state.units[player].values()), plans, self._goals,
                            self._walks)

    def plan(self, state: GameState, player: str) -> Dict[str, List[int]]:
        """Each robot's action for this step (one Lux action vector), collision-free among our robots."""
        units = list(state.units.get(player, {}).values())
        factories = list(state.factories.get(player, {}).values())
        self._goals, self._wanted, self._walks = {}, {}, {}
        if state.real_env_steps <= self._last_step:  # a new game (or the same step again)
            self._tiles_now = {}
        self._last_step = state.real_env_steps
        self._last_tiles = self._tiles_now
        self._tiles_now = {u.unit_id: (int(u.pos[0]), int(u.pos[1])) for u in units}
        if not units or not factories:
            return {}
        view = view_of(state, player)
        plans: Dict[str, List[int]] = {}
        home_ids = self.homes.update(state, player)
        # The tiles each robot is sent to: the policy's features point at the same ones.
        claimed = target_tiles(state, player, units, home_ids, ore_heavies_first=self.ore_heavies_first)
        homes = home_factories(state, player, units, home_ids)
        roles = step_roles(units, homes, state.real_env_steps, state.cfg.ORE_METAL_RATIO)
        hunts: Dict[str, Tile] = {}
        late = self.defend_all_from is not None and state.real_env_steps >= self.defend_all_from
        heavy_raids = self.raids and state.real_env_steps >= HEAVY_RAID_FROM_STEP
        steps_left = state.cfg.max_episode_length - state.real_env_steps
        raiding_heavies = [u for u, home in zip(units, homes) if heavy_raids and u.is_heavy
                           and (roles.get(u.unit_id) == GUARD or (
                               steps_left <= LAST_RAID_STEPS
                               and home.cargo.water >= steps_left * LAST_RAID_WATER_PER_STEP))
                           and u.cargo.ice + u.cargo.ore == 0 and u.power >= HEAVY_RAID_POWER]
        raiding_ids = {u.unit_id for u in raiding_heavies}
        intruders = lichen_intruders(view)  # read by both calls of interceptors below
        if self.defence:
            # A heavy whose home runs low on water keeps bringing ice rather than hunting.
            hunters = [u for u, home in zip(units, homes) if not (u.is_heavy and home.cargo.water < LOW_WATER)]
            hunts = interceptors(view, hunters, intruders=intruders)
        elif late:
            # Late, every robot but the ice heavies: lichen needs their water (in a trial that let them hunt too,
            # home water fell to 100-160 and our lichen from 17,622 to 9,760 within 100 steps).
            hunts = interceptors(view, [u for u in units if roles.get(u.unit_id) != ICE
                                        and u.unit_id not in raiding_ids], intruders=intruders)
        elif self.guards:
            hunts = interceptors(view, [u for u in units if u.unit_id not in raiding_ids and (
                roles.get(u.unit_id) == GUARD
                or (self.light_guards and not u.is_heavy and u.cargo.ice + u.cargo.ore == 0))], intruders=intruders)
        if self.guards or late or self.defence:
            # Any robot next to an intruder steps onto it, whatever its work (lux.tactics.STRIKE_RANGE).
            hunts.update(interceptors(view, [u for u in units if u.unit_id not in hunts], max_range=STRIKE_RANGE,
                                      hunted=set(hunts.values()), intruders=intruders))
        raids: Dict[str, Tile] = {}
        if self.raids:
            raiders = [u for u, home in zip(units, homes) if not u.is_heavy and u.unit_id not in hunts
                       and u.cargo.ice + u.cargo.ore == 0
                       and u.power >= RAID_POWER + home.distance_to(u.pos) * (u.cfg.MOVE_COST + 2)]
            raids = raid_tiles(view, raiders + raiding_heavies)
        for i, (unit, home) in enumerate(zip(units, homes)):
            tiles = {kind: claimed[kind][i] for kind, _, _ in TARGET_KINDS}
            far = self.ore_heavies_first and tiles["ore"] is not None and \
                home.distance_to(np.array(tiles["ore"])) > ore_reach_of_heavy(home)
            if unit.is_heavy and tiles["ore"] is not None and (_nearer_the_enemy(view, tiles["ore"], home) or far):
                # Ore by the enemy's factories: a heavy sent there was chased until it had no power to come home
                # (its factory ran dry). Heavies mine it only nearer home (with ore_heavies_first: far only with
                # power to spare).
                tiles["ore"] = None
            if unit.unit_id in hunts:
                # Step onto the intruder (lux.tactics: this robot wins that collision).
                self._goals[unit.unit_id] = hunts[unit.unit_id]
                plans[unit.unit_id] = A.move(A.direction_to(unit.pos, np.array(hunts[unit.unit_id])))
            elif unit.unit_id in raids:
                here = (int(unit.pos[0]), int(unit.pos[1]))
                plans[unit.unit_id] = self._go_dig(view, unit, here, raids[unit.unit_id])
            else:
                plans[unit.unit_id] = self._plan(view, unit, home, home.distance_to(unit.pos), tiles,
                                                 roles.get(unit.unit_id) == ORE, state.cfg.ORE_METAL_RATIO)
        self._wanted = {uid: int(p[1]) for uid, p in plans.items() if p[0] == A.MOVE and p[1] != A.CENTER}
        self._resolve_moves(view, units, plans)
        return plans

    def intentions(self) -> Tuple[Dict[str, Tile], Dict[str, int]]:
        """For the last `plan`: each moving robot's goal tile and the direction it wanted before collisions
        were resolved (what a model of this controller has to predict; tools/target_agreement.py)."""
        return dict(self._goals), dict(self._wanted)

    def _resolve_moves(self, view: TurnView, units: List[Unit], plans: Dict[str, List[int]]) -> None:
        """Make the plans collision-free among our robots (in place), with the shared move resolver
        (`lux.moves`): robots that stay reserve their tiles, movers try their wanted direction first and
        side-steps later; one left without a tile stays. Factory centres are where new robots appear: never
        walk onto them."""
        claims = TileClaims(view.own_robot_at)
        movers: List[Mover] = []
        for unit in units:
            here = (int(unit.pos[0]), int(unit.pos[1]))
            action = plans[unit.unit_id]
            moving = action[0] == A.MOVE and action[1] != A.CENTER
            legal = [(d, (here[0] + _DELTAS[d][0], here[1] + _DELTAS[d][1]))
                     for d in self._move_options(view, unit, action[1], self._walks.get(unit.unit_id),
                                                 self._last_tiles.get(unit.unit_id))
                     ] if moving else []
            first = [o for o in legal[:1] if o[1] not in view.own_centres]
            side = [o for o in legal[1:] if o[1] not in view.own_centres]
            dodges = view.dodges(unit, first[0][1] if first else here) if self.safety else None
            if dodges and dodges[0][0] == A.CENTER:
                # An enemy robot could destroy it on the tile it was moving to, not where it stands: stay.
                plans[unit.unit_id] = _stay(unit)
                claims.place(unit.unit_id, here, here)
                continue
            if dodges:
                # An enemy robot could destroy it where it was going to end the step: step away.
                moving, first, side = True, dodges[:1], dodges[1:]
            if not moving:
                claims.place(unit.unit_id, here, here)
                continue
            movers.append(Mover(unit.unit_id, here, first, side))
        for uid, direction in place_movers(claims, movers).items():
            unit = view.state.units[view.player][uid]
            plans[uid] = _stay(unit) if direction is None else A.move(direction)

    # -- planning ---------------------------------------------------------------------------------------------

    def _plan(self, view: TurnView, unit: Unit, home: Factory, dist_home: int, tiles: Dict[str, Optional[Tile]],
              mines_ore: bool = False, ore_per_metal: int = 5) -> List[int]:
        """The next action for one robot (moves give only the wanted direction; collisions are resolved later);
        `tiles`: its target tile of each kind (lux.resources.target_tiles); `mines_ore`: a heavy sent for ore
        (`lux.roles`); `ore_per_metal`: the game's ORE_METAL_RATIO."""
        cfg = unit.cfg
        here = (int(unit.pos[0]), int(unit.pos[1]))
        on_home = dist_home == 0
        carried = unit.cargo.ice + unit.cargo.ore
        resource = A.ICE if unit.is_heavy or home.cargo.water < LOW_WATER else A.ORE
        if mines_ore and tiles["ore"] is not None:
            resource = A.ORE
        heavy_clears_rubble = False
        rich = home.cargo.water >= RICH_WATER and tiles["rubble"] is not None and carried == 0
        if unit.is_heavy and home.cargo.water >= HEAVY_ORE_WATER and not mines_ore:
            if home.cargo.metal < HEAVY_ORE_METAL and tiles["ore"] is not None and not rich and \
                    view.state.real_env_steps < ORE_UNTIL_STEP:
                # Water piling up at home while metal runs out (lights lost, none left to mine ore).
                resource = A.ORE
            elif tiles["rubble"] is not None and carried == 0:
                # Water enough for now: room for lichen. A heavy digs rubble ten times as fast as a light.
                heavy_clears_rubble = True
        # Power to walk home the least-power way, plus a margin of a few digs (rubble may fall on the way).
        home_tiles = tuple(home.footprint_tiles())
        walk_home = float(view.walk_costs(unit.unit_type, home_tiles)[here])
        if not np.isfinite(walk_home):
            walk_home = dist_home * (cfg.MOVE_COST + 2)
        power_to_return = int(walk_home) + dist_home * 2 + 3 * cfg.DIG_COST + cfg.ACTION_QUEUE_POWER_COST

        if on_home:
            if carried > 0:
                res = A.ICE if unit.cargo.ice >= unit.cargo.ore else A.ORE
                amount = unit.cargo.ice if res == A.ICE else unit.cargo.ore
                return A.transfer(A.CENTER, res, amount)
            want = cfg.BATTERY_CAPACITY - unit.power
            reserve = 50 if unit.is_heavy else 0
            if want > cfg.BATTERY_CAPACITY // 4 and home.power - reserve > cfg.DIG_COST * 3:
                return A.pickup(A.POWER, min(want, home.power - reserve))
        # A factory about to run dry gets whatever ice is on the way now rather than a full load later.
        thirsty = home.cargo.water < THIRSTY_WATER and unit.cargo.ice >= 10 * cfg.DIG_RESOURCE_GAIN
        # A heavy brings its ore as soon as it pays for the next heavy: a full load takes 50 digs.
        pays_a_heavy = unit.is_heavy and unit.cargo.ore > 0 and home.cargo.metal < cfg.METAL_COST and \
            home.cargo.metal + unit.cargo.ore // ore_per_metal >= cfg.METAL_COST
        if dist_home == 1 and carried > 0 and (carried >= cfg.CARGO_SPACE or unit.power < power_to_return * 2
                                               or thirsty or pays_a_heavy):
            res = A.ICE if unit.cargo.ice >= unit.cargo.ore else A.ORE
            amount = unit.cargo.ice if res == A.ICE else unit.cargo.ore
            return A.transfer(self._direction_to_factory(unit.pos, home), res, amount)
        if carried >= cfg.CARGO_SPACE or unit.power < power_to_return or thirsty or pays_a_heavy:
            if dist_home == 0:
                return A.recharge(cfg.BATTERY_CAPACITY)
            goal = home.nearest_tile(unit.pos)
            return self._walk(view, unit, (int(goal[0]), int(goal[1])), home_tiles)

        if heavy_clears_rubble:
            return self._go_dig(view, unit, here, tiles["rubble"])
        # Lights with metal enough at home clear rubble instead (ore heavies keep digging: `lux.roles`).
        if self.rubble_metal is not None and resource == A.ORE and not unit.is_heavy \
                and (home.cargo.metal >= self.rubble_metal or rich) and tiles["rubble"] is not None:
            return self._go_dig(view, unit, here, tiles["rubble"])
        target = tiles["ice" if resource == A.ICE else "ore"]
        if target is None:
            # Nothing to mine: clear rubble next to home, room for its lichen to spread.
            target = tiles["rubble"]
        if target is None:
            return A.recharge(cfg.BATTERY_CAPACITY) if not on_home else [A.RECHARGE, 0, 0, cfg.BATTERY_CAPACITY, 0, 1]
        return self._go_dig(view, unit, here, target)

    def _go_dig(self, view: TurnView, unit: Unit, here: Tile, target: Tile) -> List[int]:
        """Dig when on the target tile, else walk toward it."""
        if target == here:
            if unit.power >= unit.cfg.DIG_COST + unit.cfg.ACTION_QUEUE_POWER_COST:
                return A.dig()
            return A.recharge(unit.cfg.BATTERY_CAPACITY)
        return self._walk(view, unit, target, (target,))

    def _walk(self, view: TurnView, unit: Unit, goal: Tile, ends: Tuple[Tile, ...]) -> List[int]:
        """The first move of the least-power walk onto one of `ends` (`goal`: the one it is headed for, for
        `intentions`)."""
        self._goals[unit.unit_id] = goal
        here = (int(unit.pos[0]), int(unit.pos[1]))
        steps = steps_downhill(view.walk_costs(unit.unit_type, ends), view.move_cost(unit.unit_type), here)
        if not steps:  # cut off from it (enemy factories all round): the straight way, blocked moves stay
            return A.move(A.direction_to(unit.pos, np.array(goal)))
        self._walks[unit.unit_id] = ends
        return A.move(steps[0][0])

    @staticmethod
    def _direction_to_factory(pos: np.ndarray, factory: Factory) -> int:
        return A.direction_to(pos, factory.nearest_tile(pos))

    @staticmethod
    def _move_options(view: TurnView, unit: Unit, wanted: int, ends: Optional[Tuple[Tile, ...]] = None,
                      came_from: Optional[Tile] = None) -> List[int]:
        """Directions to try: the wanted one, then the others; none off the map, into an enemy factory, or
        costing more power than the robot has. A walk (`ends`: its goal tiles) tries the moves that bring it
        nearer in power (`lux.paths.steps_downhill`), then those that keep it as near (`steps_level`) except back
        onto the tile it came from, never one that takes it further: a blocked walker goes round or waits, and
        does not step back and forth. Other moves try the side-steps."""
        if ends is not None:
            here = (int(unit.pos[0]), int(unit.pos[1]))
            costs, move_cost = view.walk_costs(unit.unit_type, ends), view.move_cost(unit.unit_type)
            steps = steps_downhill(costs, move_cost, here) + \
                [(d, t) for d, t in steps_level(costs, move_cost, here) if t != came_from]
            options = [wanted] + [d for d, _ in steps if d != wanted]
        else:
            options = [wanted] + list(side_steps(wanted))
        legal = []
        for d in options:
            tile = view.step_target(unit, d)
            if tile is None:
                continue
            if unit.power < view.move_cost_at(unit, tile[0], tile[1]) + unit.cfg.ACTION_QUEUE_POWER_COST:
                continue
            legal.append(d)
        return legal

    # -- queues -----------------------------------------------------------------------------------------------

    @staticmethod
    def _queues(view: TurnView, units: List[Unit], plans: Dict[str, List[int]], goals: Dict[str, Tile],
                walks: Dict[str, Tuple[Tile, ...]]) -> Dict[str, List[List[int]]]:
        """Only robots whose next action changes get a new queue (replacing one costs power).

        A queue runs ahead where the plan is known: digging repeats, and a move is followed by the next steps
        toward its goal. Only the first step was checked for collisions; the rest is re-checked every turn,
        and the queue is replaced as soon as its next step differs from the plan.
        """
        board = view.state.board
        out: Dict[str, List[List[int]]] = {}
        for unit in units:
            action = plans[unit.unit_id]
            head = unit.action_queue[0] if unit.action_queue else None
            if head is not None and list(map(int, head[:3])) == action[:3] and action[0] in (A.DIG, A.RECHARGE, A.MOVE):
                continue
            if head is None and action[0] == A.RECHARGE:
                continue  # an empty queue already idles
            if unit.power < unit.cfg.ACTION_QUEUE_POWER_COST:
                continue
            if action[0] == A.DIG:
                queue = [A.dig(n=_digs_needed(board, unit))]
            elif action[0] == A.MOVE and unit.unit_id in walks:
                # On along the least-power way, with what is left after the new queue and the first step.
                dx, dy = _DELTAS[action[1]]
                nxt = (int(unit.pos[0]) + dx, int(unit.pos[1]) + dy)
                move_cost = view.move_cost(unit.unit_type)
                power = unit.power - unit.cfg.ACTION_QUEUE_POWER_COST - int(move_cost[nxt])
                queue = [action] + walk_ahead(view.walk_costs(unit.unit_type, walks[unit.unit_id]), move_cost,
                                              nxt, power)
            elif action[0] == A.MOVE:
                queue = [action] + moves_after_first_step(board, unit, action[1], goals.get(unit.unit_id))
            else:
                queue = [action]
            out[unit.unit_id] = queue
        return out


def _nearer_the_enemy(view: TurnView, tile: Tile, home: Factory) -> bool:
    """Whether the tile is at least as near an enemy factory as it is to `home`."""
    return float(view.dist_enemy_factory()[tile[0], tile[1]]) <= home.distance_to(np.array(tile))


def _stay(unit: Unit) -> List[int]:
    """The plan of a robot that stays where it is this step."""
    return [A.RECHARGE, 0, 0, unit.cfg.BATTERY_CAPACITY, 0, 1]


def _digs_needed(board: Board, unit: Unit) -> int:
    """Digs to clear the rubble under the robot, or to dig away the lichen there (the tile is then left with
    rubble, cleared by the next plan); on a resource tile, enough to fill its cargo."""
    x, y = int(unit.pos[0]), int(unit.pos[1])
    if board.ice[x, y] == 0 and board.ore[x, y] == 0 and board.rubble[x, y] > 0:
        return int(np.ceil(board.rubble[x, y] / float(unit.cfg.DIG_RUBBLE_REMOVED)))
    if board.lichen[x, y] > 0:
        return int(np.ceil(board.lichen[x, y] / float(unit.cfg.DIG_LICHEN_REMOVED)))
    return unit.cfg.CARGO_SPACE
