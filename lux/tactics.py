"""Answers to the opponent read off this turn's board (`lux.turn.TurnView`): which of our robots goes to destroy
which enemy robot on our lichen, and which enemy lichen our lights dig away late in the game.

Collision rules that make an interception pay (see `lux.turn`): a heavy that moves onto a tile destroys every
light there; a light that moves onto an enemy light that stands still destroys it; a heavy that moves onto an
enemy heavy that stands still destroys it. A raider digging our lichen stands still, so the robot that steps
onto it wins; it is sent only where it would also win against a raider that moves (more power after the move).
"""
from __future__ import annotations

from typing import Collection, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .state import Unit
from .turn import TurnView

Tile = Tuple[int, int]
INTERCEPT_RANGE = {"LIGHT": 6, "HEAVY": 8}  # steps a robot walks to an intruder
# Steps from an intruder at which any of our robots goes for it, whatever its work: one step is cheap. Late in a
# game against the 15th-place bot, 805 of 1,077 enemy light-steps on our lichen had a heavy of ours within 8 tiles,
# some next to it, mining or walking with ice.
STRIKE_RANGE = 1
RAID_FROM_STEP = 750  # from here on, lights with power to spare dig the enemy's lichen
RAID_RANGE = 15  # how far a light walks to raid
RAID_MIN_LICHEN = 10  # lichen on a tile worth a raid


def lichen_intruders(view: TurnView) -> List[Unit]:
    """Enemy robots standing on our lichen or next to our factories, most lichen under them first."""
    lichen = view.state.board.lichen
    own_lichen = view.own_lichen()
    near_factory = view.dist_own_factory() <= 1
    found = []
    for unit in view.enemy_units:
        x, y = int(unit.pos[0]), int(unit.pos[1])
        if own_lichen[x, y] or near_factory[x, y]:
            found.append((-int(lichen[x, y]), unit.unit_id, unit))
    return [u for _, _, u in sorted(found, key=lambda t: t[:2])]


def beats(hunter: Unit, prey: Unit) -> bool:
    """Whether `hunter`, moving onto `prey`'s tile, destroys it whether the prey stands still or moves there too
    (a heavy beats any light; otherwise the same weight with more power)."""
    if hunter.is_heavy != prey.is_heavy:
        return hunter.is_heavy
    return hunter.power > prey.power + hunter.cfg.MOVE_COST * 4


def interceptors(view: TurnView, candidates: Sequence[Unit], max_range: Optional[int] = None,
                 hunted: Collection[Tile] = (), intruders: Optional[Sequence[Unit]] = None) -> Dict[str, Tile]:
    """Our robot id -> the tile of the enemy robot it goes for: each intruder gets the nearest of `candidates`
    that beats it, is in range (INTERCEPT_RANGE, or `max_range` steps when given), and has the power to get there
    and back home with a few digs to spare (a heavy that chased fleeing lights with less was left without the
    power to move, far from home). Intruders on `hunted` tiles are left alone (another robot goes for them).
    `intruders`: this turn's `lichen_intruders(view)`, when the caller has them already."""
    targets: Dict[str, Tile] = {}
    free = list(candidates)
    dist_home = view.dist_own_factory()
    for prey in lichen_intruders(view) if intruders is None else intruders:
        px, py = int(prey.pos[0]), int(prey.pos[1])
        if (px, py) in hunted:
            continue
        best, best_gap = None, None
        for hunter in free:
            hx, hy = int(hunter.pos[0]), int(hunter.pos[1])
            gap = abs(hx - px) + abs(hy - py)
            reach = INTERCEPT_RANGE[hunter.unit_type] if max_range is None else max_range
            if gap == 0 or gap > reach or not beats(hunter, prey):
                continue
            way = gap + float(dist_home[px, py])
            reserve = hunter.cfg.ACTION_QUEUE_POWER_COST * 2 + 3 * hunter.cfg.DIG_COST
            if hunter.power < reserve + way * (hunter.cfg.MOVE_COST + 2):
                continue
            if best_gap is None or gap < best_gap:
                best, best_gap = hunter, gap
        if best is not None:
            targets[best.unit_id] = (px, py)
            free.remove(best)
    return targets


def raid_tiles(view: TurnView, raiders: Sequence[Unit]) -> Dict[str, Tile]:
    """Late in the game, our robot id -> the enemy lichen tile it digs: the nearest tile with at least
    RAID_MIN_LICHEN lichen within RAID_RANGE, one robot a tile, robots with the most power first (a heavy before
    any light: its dig takes a whole tile's lichen)."""
    if view.state.real_env_steps < RAID_FROM_STEP:
        return {}
    board = view.state.board
    enemy_lichen = (board.lichen_strains >= 0) & ~view.own_lichen() & (board.lichen >= RAID_MIN_LICHEN)
    xs, ys = np.nonzero(enemy_lichen)
    if len(xs) == 0:
        return {}
    taken = np.zeros(len(xs), dtype=bool)
    out: Dict[str, Tile] = {}
    for light in sorted(raiders, key=lambda u: (-u.power, u.unit_id)):
        gap = np.abs(xs - int(light.pos[0])) + np.abs(ys - int(light.pos[1]))
        gap = np.where(taken, 1 << 30, gap)
        i = int(gap.argmin())
        if gap[i] > RAID_RANGE:
            continue
        taken[i] = True
        out[light.unit_id] = (int(xs[i]), int(ys[i]))
    return out
