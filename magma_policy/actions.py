"""The per-robot discrete action set, its masks, and the codec to Lux action queues.

| id | name | queue sent |
|----|------|-----------|
| 0 | NOOP | `[]`: the robot stays where it is and does nothing (recharges by day) |
| 1-4 | MOVE_UP/RIGHT/DOWN/LEFT | one move, `n` = the run it can afford, keeping a new queue's power (`_move_run`) |
| 5 | DIG | one dig with `n` = the digs that are useful and affordable, as moves (`_dig_run`) |
| 6 | TRANSFER_ICE | all ice cargo to an own factory tile under the robot (CENTER) or 4-adjacent to it |
| 7 | TRANSFER_ORE | the same for ore |
| 8 | PICKUP_POWER | power from the own factory under the robot: min(battery room, factory power) |
| 9-12 | GO_HOME, GO_ICE, GO_ORE, GO_RUBBLE | a walk to the robot's tile of that kind (see below) |

A GO action walks toward the robot's tile of its kind (`lux.resources.target_tiles`, the tiles the features
show): the first step `lux.actions.direction_to` takes, then up to `lux.paths.WALK_AHEAD` more, one move each.
It and the move of its first step do the same this turn; the GO action also queues the walk on, so a
robot that keeps walking to its tile keeps its queue (replacing it costs power: 10 for a heavy) and a blocked
walker may side-step. The heuristic controller walks to the same tiles, so imitation learns which tile to go
to, not the steps of each walk.

Engine rules the masks follow (luxai_s2 `validate_actions` and `step`): replacing a queue first costs
ACTION_QUEUE_POWER_COST, and the replacement is skipped when the robot has less; the queue's next action then
needs power of its own (move: MOVE_COST + RUBBLE_MOVEMENT_COST * rubble of the target, dig: DIG_COST) and is
rejected without it; moves off the map or onto an enemy factory are rejected; digging on any factory is
rejected; pickup needs a factory under the robot; transfers must target a tile on the map.

Masks that go beyond the engine's rules, to save power or turns (the engine would accept these and waste them):
- DIG where there is nothing to dig: no rubble, no enemy lichen, no ice/ore with cargo room for it.
  Digging our own lichen is masked too.
- TRANSFER_* with no cargo of that resource, or with no own factory tile under or next to the robot.
- PICKUP_POWER when it would gain less than PICKUP_MIN_FRACTION of the battery.
- GO_* without a tile of that kind, on it, or when the first step's move is masked.
NOOP is always allowed.

Queues are only re-sent when the robot's current queue does not already do the chosen action (replacing costs
power). Decoding keeps our own robots from colliding: in the engine any two robots that end a step on the
same tile collide, our own included, and factory tiles are no exception (`_handle_movement_actions` counts
the robots per tile after all moves; at most one survives). So each robot reserves the tile it will be on
next step, and a move into a reserved tile, or onto a robot that has not been confirmed to move away, becomes
NOOP. Moves are placed in passes by the move resolver the heuristic controller uses too (`lux.moves`): first
each mover tries only its own step (waiting for the robot ahead to move on), then walkers (GO_*) blocked that way
try the side-steps. Three exceptions to "the chosen action is carried out or becomes NOOP": those side-steps; an
idle light (NOOP) standing where another robot of ours moves steps aside to a free tile, so that idlers cannot
lock a heavy out of its factory; and the heuristic controller's safety rule (`lux.turn.TurnView.dodges`): a
robot whose action would end the step where an enemy robot could move and destroy it stays where it is, if that
is safe, or steps away to a safe tile (our factory first).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np

from lux import actions as A
from lux.moves import Mover, TileClaims, place_movers
from lux.paths import moves_after_first_step, side_steps
from lux.resources import target_tiles
from lux.state import GameState, Unit
from lux.turn import view_of

(NOOP, MOVE_UP, MOVE_RIGHT, MOVE_DOWN, MOVE_LEFT, DIG, TRANSFER_ICE, TRANSFER_ORE, PICKUP_POWER,
 GO_HOME, GO_ICE, GO_ORE, GO_RUBBLE) = range(13)
ACTION_NAMES = ("NOOP", "MOVE_UP", "MOVE_RIGHT", "MOVE_DOWN", "MOVE_LEFT", "DIG", "TRANSFER_ICE",
                "TRANSFER_ORE", "PICKUP_POWER", "GO_HOME", "GO_ICE", "GO_ORE", "GO_RUBBLE")
N_ACTIONS = len(ACTION_NAMES)
MOVE_DIRECTION = {MOVE_UP: A.UP, MOVE_RIGHT: A.RIGHT, MOVE_DOWN: A.DOWN, MOVE_LEFT: A.LEFT}
MOVE_OF_DIRECTION = {d: action for action, d in MOVE_DIRECTION.items()}
GOAL_KIND = {GO_HOME: "home", GO_ICE: "ice", GO_ORE: "ore", GO_RUBBLE: "rubble"}  # keys of target_tiles' result
GO_OF_KIND = {kind: action for action, kind in GOAL_KIND.items()}
TRANSFER_RESOURCE = {TRANSFER_ICE: A.ICE, TRANSFER_ORE: A.ORE}
PICKUP_MIN_FRACTION = 0.1  # a pickup must gain at least this share of the battery to be worth a queue
MAX_RUN = 20  # longest move or dig run queued at once (the engine's queue holds 20 actions; we use one)

Queue = List[List[int]]
Tile = Tuple[int, int]
Targets = Dict[str, List[Optional[Tile]]]  # lux.resources.target_tiles' result: per kind, one tile per robot
_DELTAS = list(enumerate(A.DIRECTION_STEPS))  # (direction, (dx, dy)), CENTER first


class _Context:
    """The masks' and the decoder's reading of this turn's board (`lux.turn.TurnView`)."""

    def __init__(self, state: GameState, player: str) -> None:
        self.state = state
        self.player = player
        self.view = view = view_of(state, player)
        self.w, self.h = view.width, view.height
        self.own_tiles, self.enemy_tiles, self.factory_at = view.own_factory_tiles, view.enemy_factory_tiles, \
            view.factory_at
        self.own_strains = view.own_strains
        self.factory_power = np.zeros(self.own_tiles.shape, dtype=np.float64)
        for (x, y), f in self.factory_at.items():
            self.factory_power[x, y] = f.power

    def in_bounds(self, x: int, y: int) -> bool:
        return self.view.in_bounds(x, y)

    def move_cost(self, unit: Unit, x: int, y: int) -> int:
        return self.view.move_cost_at(unit, x, y)

    def transfer_direction(self, unit: Unit) -> Optional[int]:
        """Direction to an own factory tile under (CENTER) or next to the robot; None when none."""
        ux, uy = int(unit.pos[0]), int(unit.pos[1])
        for d, (dx, dy) in _DELTAS:
            x, y = ux + dx, uy + dy
            if 0 <= x < self.w and 0 <= y < self.h and self.own_tiles[x, y]:
                return d
        return None

    def pickup_amount(self, unit: Unit, power_after_queue: int) -> int:
        factory = self.factory_at.get((int(unit.pos[0]), int(unit.pos[1])))
        if factory is None:
            return 0
        return int(max(min(unit.cfg.BATTERY_CAPACITY - power_after_queue, factory.power), 0))

    def dig_useful(self, unit: Unit) -> int:
        """Digs that still achieve something here (0 when nothing can be dug)."""
        board = self.state.board
        x, y = int(unit.pos[0]), int(unit.pos[1])
        cfg = unit.cfg
        if self.own_tiles[x, y] or self.enemy_tiles[x, y]:
            return 0
        if board.rubble[x, y] > 0:
            return int(np.ceil(board.rubble[x, y] / float(cfg.DIG_RUBBLE_REMOVED)))
        if board.lichen[x, y] > 0:
            if int(board.lichen_strains[x, y]) in self.own_strains:
                return 0
            return int(np.ceil(board.lichen[x, y] / float(cfg.DIG_LICHEN_REMOVED)))
        if board.ice[x, y] > 0:
            return int(np.ceil(max(cfg.CARGO_SPACE - unit.cargo.ice, 0) / float(cfg.DIG_RESOURCE_GAIN)))
        if board.ore[x, y] > 0:
            return int(np.ceil(max(cfg.CARGO_SPACE - unit.cargo.ore, 0) / float(cfg.DIG_RESOURCE_GAIN)))
        return 0


def current_action(ctx: _Context, unit: Unit) -> Optional[int]:
    """Which of our actions the robot's current queue is doing now (NOOP for an empty queue), None if none."""
    if not unit.action_queue:
        return NOOP
    head = [int(v) for v in unit.action_queue[0]]
    action = _matching_action(head)
    if action in TRANSFER_RESOURCE and head[1] != ctx.transfer_direction(unit):
        return None
    return action


def _matching_action(lux_action: Sequence[int]) -> Optional[int]:
    """The action of this set a single Lux robot action is (transfers: any direction), None if none is."""
    kind, direction, resource = int(lux_action[0]), int(lux_action[1]), int(lux_action[2])
    if kind == A.MOVE:
        for action, d in MOVE_DIRECTION.items():
            if d == direction:
                return action
        return None
    if kind == A.DIG:
        return DIG
    if kind == A.TRANSFER and resource in (A.ICE, A.ORE):
        return TRANSFER_ICE if resource == A.ICE else TRANSFER_ORE
    if kind == A.PICKUP and resource == A.POWER:
        return PICKUP_POWER
    return None


def action_id(lux_action: Optional[Sequence[int]]) -> int:
    """The action of this set that a single Lux robot action amounts to (NOOP where none does: no action, a
    move to CENTER, recharge, transfers of water, metal or power, pickups of anything but power)."""
    if lux_action is None or len(lux_action) < 3:
        return NOOP
    action = _matching_action(lux_action)
    return NOOP if action is None else action


def _unit_arrays(robots: List[Unit], attr: str) -> np.ndarray:
    return np.array([getattr(u.cfg, attr) for u in robots], dtype=np.float64)


def pad_border(grid: np.ndarray, value: Union[bool, float] = 0, dtype: Optional[type] = None) -> np.ndarray:
    """`grid` with a one-tile border of `value` (np.pad's result, without its general-case overhead)."""
    out = np.full((grid.shape[0] + 2, grid.shape[1] + 2), value, dtype=dtype or grid.dtype)
    out[1:-1, 1:-1] = grid
    return out


def tile_offsets(pos: np.ndarray, tiles: Sequence[Optional[Tile]]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dy, has) [N]: each robot's offset to its tile (`pos` [N, 2]; 0 where it has none) and whether it has one."""
    n = len(tiles)
    has = np.fromiter((t is not None for t in tiles), dtype=bool, count=n)
    arr = np.array([t if t is not None else (0, 0) for t in tiles], dtype=np.int64).reshape(n, 2)
    d = np.where(has[:, None], arr - pos.reshape(n, 2), 0)
    return d[:, 0], d[:, 1], has


def step_directions(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """`lux.actions.direction_to` for arrays of offsets: x first when |dx| >= |dy|, CENTER where both are 0."""
    along_x = np.where(dx > 0, A.RIGHT, A.LEFT)
    along_y = np.where(dy > 0, A.DOWN, A.UP)
    step = np.where(np.abs(dx) >= np.abs(dy), along_x, along_y)
    return np.where((dx == 0) & (dy == 0), A.CENTER, step)


# The move action of each direction (CENTER: NOOP), indexed by direction.
_MOVE_OF_DIRECTION_ARRAY = np.array([NOOP] + [MOVE_OF_DIRECTION[d] for d in (A.UP, A.RIGHT, A.DOWN, A.LEFT)],
                                    dtype=np.int64)


def _masks(ctx: _Context, robots: List[Unit], targets: Targets) -> np.ndarray:
    """The masks of all robots at once (numpy over robots; only the queue heads are read one by one)."""
    n = len(robots)
    mask = np.zeros((n, N_ACTIONS), dtype=bool)
    mask[:, NOOP] = True
    if n == 0:
        return mask
    board = ctx.state.board
    pos = np.array([u.pos for u in robots], dtype=np.int64).reshape(n, 2)
    x, y = pos[:, 0], pos[:, 1]
    power = np.array([u.power for u in robots], dtype=np.float64)
    queue_cost = _unit_arrays(robots, "ACTION_QUEUE_POWER_COST")
    head = np.array([_head_id(current_action(ctx, u)) for u in robots], dtype=np.int64)
    after_queue = np.where(power >= queue_cost, power - queue_cost, -1.0)

    def power_left(action: int) -> np.ndarray:
        # What each robot has for the action once the queue is (re)placed; -1: it cannot be queued.
        return np.where(head == action, power, after_queue)

    # Off-map tiles count as blocked, like enemy factory tiles.
    blocked = pad_border(ctx.enemy_tiles, True)
    heavy = np.array([u.is_heavy for u in robots], dtype=bool)
    heavy_cost, light_cost = (pad_border(ctx.view.move_cost(kind), 0) for kind in ("HEAVY", "LIGHT"))
    for action, d in MOVE_DIRECTION.items():
        tx, ty = x + 1 + int(A.DIRECTION_DELTAS[d][0]), y + 1 + int(A.DIRECTION_DELTAS[d][1])
        cost = np.where(heavy, heavy_cost[tx, ty], light_cost[tx, ty])
        mask[:, action] = ~blocked[tx, ty] & (power_left(action) >= cost)

    space = _unit_arrays(robots, "CARGO_SPACE")
    ice = np.array([u.cargo.ice for u in robots], dtype=np.float64)
    ore = np.array([u.cargo.ore for u in robots], dtype=np.float64)
    strains = board.lichen_strains[x, y]
    own_lichen = np.fromiter((int(v) in ctx.own_strains for v in strains), dtype=bool, count=n)
    # The engine digs rubble first, then lichen, then ice, then ore (`_handle_dig_actions`).
    useful = np.select(
        [board.rubble[x, y] > 0, board.lichen[x, y] > 0, board.ice[x, y] > 0, board.ore[x, y] > 0],
        [np.ones(n, dtype=bool), ~own_lichen, ice < space, ore < space], default=False)
    on_factory = ctx.own_tiles[x, y] | ctx.enemy_tiles[x, y]
    mask[:, DIG] = useful & ~on_factory & (power_left(DIG) >= _unit_arrays(robots, "DIG_COST"))

    own = pad_border(ctx.own_tiles, False)
    near = own[x + 1, y + 1] | own[x, y + 1] | own[x + 2, y + 1] | own[x + 1, y] | own[x + 1, y + 2]
    mask[:, TRANSFER_ICE] = near & (ice > 0) & (power_left(TRANSFER_ICE) >= 0)
    mask[:, TRANSFER_ORE] = near & (ore > 0) & (power_left(TRANSFER_ORE) >= 0)

    battery = _unit_arrays(robots, "BATTERY_CAPACITY")
    left = power_left(PICKUP_POWER)
    gain = np.minimum(battery - left, ctx.factory_power[x, y])
    mask[:, PICKUP_POWER] = ctx.own_tiles[x, y] & (left >= 0) & (gain >= PICKUP_MIN_FRACTION * battery)

    rows = np.arange(n)
    for action, kind in GOAL_KIND.items():
        # A walk is allowed when the move of its first step is (none without a tile, or on it).
        dx, dy, has = tile_offsets(pos, targets[kind])
        first = _MOVE_OF_DIRECTION_ARRAY[step_directions(dx, dy)]
        mask[:, action] = has & (first != NOOP) & mask[rows, first]
    return mask


def _first_step(unit: Unit, tile: Optional[Tile]) -> Optional[int]:
    """The direction of a walk's first step toward `tile` (None without a tile or on it)."""
    if tile is None:
        return None
    d = A.direction_to(unit.pos, tile)
    return None if d == A.CENTER else d


def _head_id(action: Optional[int]) -> int:
    return -1 if action is None else action


def _resolve_units(state: GameState, player: str, units: Sequence[Union[str, Unit]]) -> List[Unit]:
    own = state.units.get(player, {})
    out = []
    for u in units:
        uid = u if isinstance(u, str) else u.unit_id
        if uid not in own:
            raise KeyError("%s has no robot %r" % (player, uid))
        out.append(own[uid])
    return out


def action_masks(state: GameState, player: str, units: Sequence[Union[str, Unit]],
                 targets: Optional[Targets] = None) -> np.ndarray:
    """bool [N, N_ACTIONS]: which actions each robot (ids or Unit objects, in this order) may take now.

    `targets`: `lux.resources.target_tiles(state, player, units)` when the caller has it (features do).
    """
    ctx = _Context(state, player)
    robots = _resolve_units(state, player, units)
    if targets is None:
        targets = target_tiles(state, player, robots)
    return _masks(ctx, robots, targets)


def _ahead(start: int, step: int, size: int) -> slice:
    """The indices start + step, start + 2 * step, ... along one axis of `size`, at most MAX_RUN of them."""
    if step > 0:
        return slice(start + 1, min(start + 1 + MAX_RUN, size))
    if start == 0:
        return slice(0, 0)
    stop = start - 1 - MAX_RUN
    return slice(start - 1, stop if stop >= 0 else None, -1)


def _move_run(ctx: _Context, unit: Unit, direction: int, power: int) -> int:
    """Straight moves ahead that stay on the map, avoid enemy factories and are paid for by `power`."""
    dx, dy = (int(v) for v in A.DIRECTION_DELTAS[direction])
    x, y = int(unit.pos[0]), int(unit.pos[1])
    index = (_ahead(x, dx, ctx.w), y) if dx else (x, _ahead(y, dy, ctx.h))  # the tiles ahead, nearest first
    cost = ctx.view.move_cost(unit.unit_type)[index]
    blocked = np.flatnonzero(ctx.enemy_tiles[index])
    if len(blocked):
        cost = cost[:blocked[0]]
    # Costs are positive, so the run is the number of tiles whose cumulative cost `power` still pays.
    return max(int(np.searchsorted(np.cumsum(cost), power, side="right")), 1)


def queue_for(ctx: _Context, unit: Unit, action: int, goal: Optional[Tile] = None) -> Queue:
    """The queue that carries out `action` for this robot (assuming the queue is replaced now); a move with a
    `goal` tile walks on toward it (a GO action, its first step already resolved into a move)."""
    power = unit.power - unit.cfg.ACTION_QUEUE_POWER_COST
    if action == NOOP:
        return []
    if action in MOVE_DIRECTION and goal is not None:
        d = MOVE_DIRECTION[action]
        # Like a run, the walk keeps what a new queue costs.
        return [A.move(d)] + moves_after_first_step(ctx.state.board, unit, d, goal,
                                                    keep_power=unit.cfg.ACTION_QUEUE_POWER_COST)
    if action in MOVE_DIRECTION:
        d = MOVE_DIRECTION[action]
        # The run keeps what a new queue costs: if the way gets dearer (a destroyed factory leaves rubble), the
        # robot can still replace its queue instead of having its next move rejected turn after turn.
        return [A.move(d, n=_move_run(ctx, unit, d, power - unit.cfg.ACTION_QUEUE_POWER_COST))]
    if action == DIG:  # as moves: keeping a new queue's power
        affordable = (power - unit.cfg.ACTION_QUEUE_POWER_COST) // max(unit.cfg.DIG_COST, 1)
        return [A.dig(n=int(max(min(affordable, ctx.dig_useful(unit), MAX_RUN), 1)))]
    if action in TRANSFER_RESOURCE:
        direction = ctx.transfer_direction(unit)
        return [A.transfer(A.CENTER if direction is None else direction, TRANSFER_RESOURCE[action],
                           unit.cfg.CARGO_SPACE)]
    if action == PICKUP_POWER:
        return [A.pickup(A.POWER, max(ctx.pickup_amount(unit, power), 0))]
    raise ValueError("unknown action id %r (expected 0..%d)" % (action, N_ACTIONS - 1))


def _next_tile(ctx: _Context, unit: Unit, action: Optional[int]) -> Tuple[int, int]:
    """Where the robot stands after this step when it carries out `action` (None: its queue's own head)."""
    x, y = int(unit.pos[0]), int(unit.pos[1])
    if action is None:
        if not unit.action_queue or int(unit.action_queue[0][0]) != A.MOVE:
            return x, y
        direction = int(unit.action_queue[0][1])
    elif action in MOVE_DIRECTION:
        direction = MOVE_DIRECTION[action]
    else:
        return x, y
    if direction == A.CENTER:
        return x, y
    tx, ty = x + int(A.DIRECTION_DELTAS[direction][0]), y + int(A.DIRECTION_DELTAS[direction][1])
    if not ctx.in_bounds(tx, ty) or ctx.enemy_tiles[tx, ty] or unit.power < ctx.move_cost(unit, tx, ty):
        return x, y  # the engine rejects the move; the robot stays
    return tx, ty


def decode(state: GameState, player: str, unit_ids: Sequence[str], chosen: Sequence[int],
           targets: Optional[Targets] = None, safety: bool = True) -> Dict[str, Queue]:
    """Lux action queues for the chosen actions: only the queues that change, with no collisions among ours.

    `targets`: the robots' target tiles in `unit_ids` order (`Features.targets`); computed here when not given
    and a GO action is chosen. Robots that cannot pay for a new queue keep theirs and are placed first, then
    robots that stay, then movers in passes (see the module docstring). Our robots not in `unit_ids` also keep
    their queues. With `safety`, a robot whose action would end the step where an enemy robot could destroy it
    stays or steps away instead (`lux.turn.TurnView.dodges`, the heuristic controller's rule).
    """
    chosen = np.asarray(chosen).reshape(-1)
    if len(chosen) != len(unit_ids):
        raise ValueError("got %d actions for %d robots" % (len(chosen), len(unit_ids)))
    if len(chosen) and (chosen.min() < 0 or chosen.max() >= N_ACTIONS):
        raise ValueError("action ids must be in 0..%d, got %s" % (N_ACTIONS - 1, chosen.tolist()))
    ctx = _Context(state, player)
    own = state.units.get(player, {})
    robots = _resolve_units(state, player, unit_ids)
    choice = {u.unit_id: int(a) for u, a in zip(robots, chosen)}
    goals = _walk_goals(state, player, robots, choice, targets)
    claims = TileClaims(ctx.view.own_robot_at)

    def place(unit: Unit, tile: Tile) -> None:
        claims.place(unit.unit_id, (int(unit.pos[0]), int(unit.pos[1])), tile)

    fixed = [u for uid, u in own.items() if uid not in choice or u.power < u.cfg.ACTION_QUEUE_POWER_COST]
    fixed_ids = {u.unit_id for u in fixed}
    for unit in fixed:
        place(unit, _next_tile(ctx, unit, None))
    centres = ctx.view.own_centres
    _make_way(ctx, robots, choice, ctx.view.own_robot_at, fixed_ids, claims.reserved, centres)
    free_robots = [u for u in robots if u.unit_id not in fixed_ids]
    movers: List[Mover] = []
    for unit in free_robots:
        here = (int(unit.pos[0]), int(unit.pos[1]))
        tile = _next_tile(ctx, unit, choice[unit.unit_id])
        dodges = ctx.view.dodges(unit, tile) if safety else None
        if dodges:
            # An enemy robot could destroy it where the chosen action ends the step: stay, or step away.
            goals.pop(unit.unit_id, None)
            if dodges[0][0] == A.CENTER:
                choice[unit.unit_id] = NOOP
                place(unit, here)
                continue
            options = [(MOVE_OF_DIRECTION[d], t) for d, t in dodges]
            choice[unit.unit_id] = options[0][0]
            movers.append(Mover(unit.unit_id, here, options[:1], options[1:]))
            continue
        if tile == here:
            if choice[unit.unit_id] in MOVE_DIRECTION or here in claims.reserved:
                # A move the engine would reject; or only a robot that cannot change its queue can have taken
                # our tile, and nothing safer is left.
                choice[unit.unit_id] = NOOP
            place(unit, here)
            continue
        side = []
        if unit.unit_id in goals:
            side = [(option, _next_tile(ctx, unit, option))
                    for option in _walker_side_steps(ctx, unit, choice[unit.unit_id], centres)]
        movers.append(Mover(unit.unit_id, here, [(choice[unit.unit_id], tile)], side))
    for uid, option in place_movers(claims, movers).items():
        choice[uid] = NOOP if option is None else option

    out: Dict[str, Queue] = {}
    for unit in free_robots:
        action = choice[unit.unit_id]
        if current_action(ctx, unit) != action or _run_outlasts_power(ctx, unit):
            out[unit.unit_id] = queue_for(ctx, unit, action, goals.get(unit.unit_id))
    return out


def _walk_goals(state: GameState, player: str, robots: List[Unit], choice: Dict[str, int],
                targets: Optional[Targets]) -> Dict[str, Tile]:
    """Each walker's (GO action's) tile; its choice becomes the move of the first step (`choice` is changed in
    place), or NOOP without a tile to walk to."""
    walkers = [i for i, u in enumerate(robots) if choice[u.unit_id] in GOAL_KIND]
    if not walkers:
        return {}
    if targets is None:
        targets = target_tiles(state, player, robots)
    goals: Dict[str, Tile] = {}
    for i in walkers:
        unit = robots[i]
        tile = targets[GOAL_KIND[choice[unit.unit_id]]][i]
        first = _first_step(unit, tile)
        if first is None:
            choice[unit.unit_id] = NOOP
        else:
            choice[unit.unit_id] = MOVE_OF_DIRECTION[first]
            goals[unit.unit_id] = tile
    return goals


def _walker_side_steps(ctx: _Context, unit: Unit, move: int, centres: Set[Tuple[int, int]]) -> List[int]:
    """Moves across a walker's blocked step (as the heuristic controller side-steps): on the map, off enemy
    factories and factory centres (where new robots appear), paid for with a new queue's power."""
    x, y = int(unit.pos[0]), int(unit.pos[1])
    out = []
    for side in side_steps(MOVE_DIRECTION[move]):
        tx, ty = x + int(A.DIRECTION_DELTAS[side][0]), y + int(A.DIRECTION_DELTAS[side][1])
        if not ctx.in_bounds(tx, ty) or ctx.enemy_tiles[tx, ty] or (tx, ty) in centres:
            continue
        if unit.power - unit.cfg.ACTION_QUEUE_POWER_COST >= ctx.move_cost(unit, tx, ty):
            out.append(MOVE_OF_DIRECTION[side])
    return out


def _make_way(ctx: _Context, robots: List[Unit], choice: Dict[str, int], occupant: Dict[Tuple[int, int], str],
              fixed_ids: Set[str], reserved: Set[Tuple[int, int]], centres: Set[Tuple[int, int]]) -> None:
    """Idle lights standing where another of our robots wants to move step aside (`choice` is changed in place).

    Without this, a light idling on a factory tile can keep a heavy off the factory for hundreds of steps: the
    heavy cannot pick up power there, and the factory's ice stops coming. A light pays 1 power for the step.
    The side tile is one no robot of ours stands on, moves onto or keeps (`reserved`), on the map, off enemy
    factories and our factory `centres` (where new robots appear), and affordable keeping a new queue's power.
    """
    by_id = {u.unit_id: u for u in robots}
    wanted = {_next_tile(ctx, u, choice[u.unit_id]) for u in robots if choice[u.unit_id] in MOVE_DIRECTION}
    aside: Set[str] = set()
    for mover in robots:
        if mover.unit_id in fixed_ids or choice[mover.unit_id] not in MOVE_DIRECTION:
            continue
        here = (int(mover.pos[0]), int(mover.pos[1]))
        tile = _next_tile(ctx, mover, choice[mover.unit_id])
        holder = by_id.get(occupant.get(tile, ""))
        if tile == here or holder is None or holder.unit_id in fixed_ids or holder.unit_id in aside \
                or holder.is_heavy or choice[holder.unit_id] != NOOP:
            continue
        budget = holder.power - 2 * holder.cfg.ACTION_QUEUE_POWER_COST  # this queue, and the power for the next
        for action, direction in MOVE_DIRECTION.items():
            dx, dy = (int(v) for v in A.DIRECTION_DELTAS[direction])
            side = (tile[0] + dx, tile[1] + dy)
            if not ctx.in_bounds(*side) or ctx.enemy_tiles[side] or side in centres or side in occupant \
                    or side in wanted or side in reserved or budget < ctx.move_cost(holder, *side):
                continue
            choice[holder.unit_id] = action
            wanted.add(side)
            aside.add(holder.unit_id)
            break


def _run_outlasts_power(ctx: _Context, unit: Unit) -> bool:
    """Whether the rest of the queued move or dig run costs more than the robot can pay while keeping a new
    queue's power. Runs are paid for when queued, but a robot can lose power on the way (the survivor of a
    collision loses power), and a run it can no longer pay would be rejected turn after turn."""
    if not unit.action_queue:
        return False
    kind, direction, n = (int(unit.action_queue[0][i]) for i in (0, 1, 5))
    power = unit.power - unit.cfg.ACTION_QUEUE_POWER_COST
    if kind == A.MOVE and direction != A.CENTER:
        return _move_run(ctx, unit, direction, power) < n
    if kind == A.DIG:
        return power // max(unit.cfg.DIG_COST, 1) < n
    return False
