"""What each heavy of a home is for: bringing ice, mining ore, or guarding our lichen.

Read by the heuristic controller (which sends each heavy to its work) and by `lux.resources.target_tiles` (with
`ore_heavies_first`, the ore miners claim the ore within their reach before any light does), so the policy's
features, which show the same tiles, see the same plan.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from .state import Factory, Unit, id_number

ICE, ORE, GUARD = "ice", "ore", "guard"
LOW_WATER = 100  # home water below which ice comes first (and lights mine it too)
# A home's second heavy mines ore while the home holds less metal than this. A heavy digs ore ten times as fast
# as a light, and factories ended games with tens of thousands of power unused: metal, not power, limited how
# many robots (ice, water, lichen, defence) a factory built.
ORE_HEAVY_METAL = 150
# A home's only heavy mines ore for the second one while home water stays above this: without a second heavy no
# heavy ever mines ore, and lights alone kept home metal below a heavy's price for whole games.
OPENING_ORE_WATER = 120
# From this step on no heavy mines ore: the lichen that scores runs on water. Late in a game against the 15th-place
# bot, our factories held 50-100 metal they never spent while their lichen dried out every few dozen steps.
ORE_UNTIL_STEP = 600


# How far from home an ore heavy walks for ore: a heavy's move costs 20 power and more over rubble, its dig 60,
# a factory makes 50 a step. Heavies sent 12 tiles for ore left three of four factories with 50-200 power and
# their ice half mined (against the 15th-place bot, seed 1). Further only from a home with power to spare.
HEAVY_ORE_RANGE = 4
FAR_ORE_POWER = 3000


def ore_reach_of_heavy(home: Factory) -> int:
    """The furthest (distance to `home`'s footprint) an ore heavy of `home` goes for ore."""
    return 1 << 30 if home.power >= FAR_ORE_POWER else HEAVY_ORE_RANGE


def heavy_roles(units: Sequence[Unit], homes: Sequence[Factory], ore_metal_ratio: int = 5,
                mine_ore: bool = True) -> Dict[str, str]:
    """Heavy id -> ICE, ORE or GUARD. Per home, by id number: the first brings ice (ore while it is the only one
    and the home has water to spare, OPENING_ORE_WATER, until a second heavy is paid for); the second mines ore
    while the home holds less than ORE_HEAVY_METAL metal and water enough not to need its ice (else ICE); the
    rest GUARD. `ore_metal_ratio`: the game's ore per metal; `mine_ore`: whether heavies mine ore at all (else the
    first two bring ice)."""
    by_home: Dict[str, Tuple[Factory, List[Unit]]] = {}
    for unit, home in zip(units, homes):
        if unit.is_heavy:
            by_home.setdefault(home.unit_id, (home, []))[1].append(unit)
    roles: Dict[str, str] = {}
    for home, heavies in by_home.values():
        short_of_metal = mine_ore and home.cargo.metal < ORE_HEAVY_METAL and home.cargo.water >= LOW_WATER
        # The only heavy, with the water to spare: ore until the second heavy is paid for (its ore counts).
        ore = sum(u.cargo.ore for u in heavies) // ore_metal_ratio
        opening = mine_ore and len(heavies) == 1 and home.cargo.water >= OPENING_ORE_WATER and \
            home.cargo.metal + ore < heavies[0].cfg.METAL_COST
        for rank, unit in enumerate(sorted(heavies, key=lambda u: id_number(u.unit_id))):
            if rank == 0:
                roles[unit.unit_id] = ORE if opening else ICE
            elif rank == 1:
                roles[unit.unit_id] = ORE if short_of_metal else ICE
            else:
                roles[unit.unit_id] = GUARD
    return roles


def step_roles(units: Sequence[Unit], homes: Sequence[Factory], step: int, ore_metal_ratio: int = 5
               ) -> Dict[str, str]:
    """`heavy_roles` at game step `step` (no heavy mines ore from ORE_UNTIL_STEP on)."""
    return heavy_roles(units, homes, ore_metal_ratio, mine_ore=step < ORE_UNTIL_STEP)
