"""Rewards from the difference between two consecutive game states.

Own terms are per robot (unit) of the player at step t, measured against the same robot at t + 1:
  ice_dug / ore_dug            cargo gained while standing still on an ice / ore tile
  ice_delivered / ore_delivered cargo lost while on or next to one of its own factories
  power_pickup                 power gained on its own factory while below a quarter battery (per 100 power)
  rubble_cleared               rubble dug away near one of its own factories (within RUBBLE_DISTANCE of the
                               footprint, not on ice or ore): room for lichen to spread into
  death                        the robot is gone at t + 1
Team terms are per player:
  water_gained                 factory water gained (sum over factories, positive part)
  factory_alive / factory_lost factories alive at t + 1 / factories lost during the step
  survival                     factories alive when the game reaches its last step
  lichen                       lichen gained on the player's strains
Zero-sum team terms, paid when a quantity changes (each is a change of "mine minus the opponent's", so the two
players' terms are equal and opposite every step: whatever one player gains the other loses):
  result                       at the game's end: +1 win, -1 loss, 0 draw (the engine's rule: more lichen
                               wins, a player without factories loses)
  lichen_advantage             change of (own lichen - opponent's lichen)
  factory_advantage            change of (own factories - opponent's factories)
  robot_advantage              change of (own robots - opponent's robots)
Every weight comes from the training config (`reward_<term>`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from lux.resources import RUBBLE_DISTANCE
from lux.rules import FAILED_SCORE, decide_winner
from lux.state import GameState, Unit, opponent
from lux.turn import view_of

OWN_TERMS = ("ice_dug", "ore_dug", "ice_delivered", "ore_delivered", "power_pickup", "rubble_cleared", "death")
ZERO_SUM_TERMS = ("result", "lichen_advantage", "factory_advantage", "robot_advantage")
TEAM_TERMS = ("water_gained", "factory_alive", "factory_lost", "survival", "lichen") + ZERO_SUM_TERMS
LOW_POWER_SHARE = 0.25


@dataclass
class StepRewards:
    own: np.ndarray  # float32 [N]: own reward of each unit in `unit_ids` order (weighted, scaled)
    team: float  # team terms (weighted, scaled)
    terms: Dict[str, float]  # every term's weighted, scaled total over the player's units


def lichen_of(state: GameState, player: str) -> int:
    """Lichen summed over the tiles of the player's strains."""
    team = state.teams.get(player)
    if team is None or not team.factory_strains:
        return 0
    return int(state.board.lichen[state.board.lichen_tiles_of(team.factory_strains)].sum())


def game_result(state: GameState, player: str) -> float:
    """+1 if `player` wins the game that ended in `state`, -1 if it loses, 0 for a draw."""
    other = opponent(player)
    scores = {p: lichen_of(state, p) if state.factories.get(p) else FAILED_SCORE for p in (player, other)}
    winner = decide_winner(scores)
    return 0.0 if winner is None else (1.0 if winner == player else -1.0)


def zero_sum_amounts(prev: GameState, nxt: GameState, player: str, game_over: bool, w: Dict[str, float]
                     ) -> Dict[str, float]:
    """The zero-sum terms' amounts for `player` (unweighted); a term whose weight is 0 is not computed."""
    other = opponent(player)

    def lead(state: GameState, count) -> float:
        return float(count(state, player) - count(state, other))

    def change(count) -> float:
        return lead(nxt, count) - lead(prev, count)

    return {
        "result": game_result(nxt, player) if game_over and w["result"] else 0.0,
        "lichen_advantage": change(lichen_of) if w["lichen_advantage"] else 0.0,
        "factory_advantage": change(lambda s, p: len(s.factories.get(p, {}))) if w["factory_advantage"] else 0.0,
        "robot_advantage": change(lambda s, p: len(s.units.get(p, {}))) if w["robot_advantage"] else 0.0,
    }


def _home_maps(state: GameState, player: str) -> Tuple[np.ndarray, np.ndarray]:
    """Tiles of the player's factories, and tiles at Manhattan distance <= 1 of them (where a robot can
    transfer cargo into a factory)."""
    view = view_of(state, player)
    return view.own_factory_tiles, view.dist_own_factory() <= 1


def lichen_zone(state: GameState, player: str, reach: int = RUBBLE_DISTANCE) -> np.ndarray:
    """bool [W, H]: tiles within `reach` (Manhattan) of one of the player's factory footprints, where the
    factory's lichen spreads first."""
    return view_of(state, player).dist_own_factory() <= reach


def rubble_dug(prev: GameState, nxt: GameState, before: Unit, after: Unit) -> int:
    """Rubble a robot dug away during the step: it stayed on a tile without ice or ore whose rubble fell."""
    x, y = int(before.pos[0]), int(before.pos[1])
    if not np.array_equal(before.pos, after.pos) or prev.board.ice[x, y] or prev.board.ore[x, y]:
        return 0
    return max(int(prev.board.rubble[x, y]) - int(nxt.board.rubble[x, y]), 0)


def step_rewards(prev: GameState, nxt: GameState, player: str, unit_ids: List[str], weights: object,
                 game_over: bool) -> StepRewards:
    """Rewards of `player` for the step from `prev` to `nxt` (`weights` has the config's reward_* fields)."""
    scale = float(getattr(weights, "reward_scale", 1.0))
    w = {name: float(getattr(weights, "reward_" + name)) * scale for name in OWN_TERMS + TEAM_TERMS}
    own = np.zeros(len(unit_ids), dtype=np.float32)
    terms = {name: 0.0 for name in OWN_TERMS + TEAM_TERMS}
    before = prev.units.get(player, {})
    after = nxt.units.get(player, {})
    board = prev.board
    on_home, near_home = _home_maps(prev, player)
    zone = lichen_zone(prev, player) if w["rubble_cleared"] else None
    for i, uid in enumerate(unit_ids):
        u0 = before.get(uid)
        if u0 is None:
            continue
        u1 = after.get(uid)
        got: Dict[str, float] = {}
        if u1 is None:
            got["death"] = 1.0
        else:
            still = bool(np.array_equal(u0.pos, u1.pos))
            x, y = int(u0.pos[0]), int(u0.pos[1])
            d_ice, d_ore = u1.cargo.ice - u0.cargo.ice, u1.cargo.ore - u0.cargo.ore
            if still and d_ice > 0 and board.ice[x, y] > 0:
                got["ice_dug"] = float(d_ice)
            if still and d_ore > 0 and board.ore[x, y] > 0:
                got["ore_dug"] = float(d_ore)
            if near_home[x, y] and d_ice < 0:
                got["ice_delivered"] = float(-d_ice)
            if near_home[x, y] and d_ore < 0:
                got["ore_delivered"] = float(-d_ore)
            cleared = rubble_dug(prev, nxt, u0, u1) if zone is not None and zone[x, y] else 0
            if cleared > 0:
                got["rubble_cleared"] = float(cleared)
            if on_home[x, y] and u0.power < LOW_POWER_SHARE * u0.cfg.BATTERY_CAPACITY and u1.power > u0.power:
                got["power_pickup"] = (u1.power - u0.power) / 100.0
        for name, amount in got.items():
            value = w[name] * amount
            own[i] += value
            terms[name] += value

    f0, f1 = prev.factories.get(player, {}), nxt.factories.get(player, {})
    water0 = sum(f.cargo.water for f in f0.values())
    water1 = sum(f.cargo.water for f in f1.values())
    team_amounts = {
        "water_gained": float(max(water1 - water0, 0)),
        "factory_alive": float(len(f1)),
        "factory_lost": float(len(set(f0) - set(f1))),
        "survival": float(len(f1)) if game_over and nxt.real_env_steps >= nxt.cfg.max_episode_length else 0.0,
        # Lichen sums cost a full-board scan per step: only when the term is used.
        "lichen": float(max(lichen_of(nxt, player) - lichen_of(prev, player), 0)) if w["lichen"] else 0.0,
    }
    team_amounts.update(zero_sum_amounts(prev, nxt, player, game_over, w))
    team = 0.0
    for name, amount in team_amounts.items():
        terms[name] = w[name] * amount
        team += terms[name]
    return StepRewards(own=own, team=team, terms=terms)
