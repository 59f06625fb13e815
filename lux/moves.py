"""The one move resolver: which of our robots gets which tile this step, so that our robots never collide.

The heuristic controller and the policy's action codec both place their moves here, so they walk identically.
In the engine any two robots that end a step on one tile collide, our own included. Robots that stay reserve
their tiles first (the caller does it with `TileClaims.place`). Movers then claim tiles in passes: a tile one of
ours stands on is free only once that robot is known to leave it. The first passes try only each mover's
`first` options, so a robot waits for the one ahead of it to move on; later passes add its `side` options
(side-steps). A mover left without a tile stays, and reserves its own tile, which nobody can have claimed: it
never left it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Generic, List, Optional, Set, Tuple, TypeVar

Tile = Tuple[int, int]
Label = TypeVar("Label")  # what the caller calls a move: a direction, an action id


class TileClaims:
    """The tiles our robots will stand on after this step, as they are decided."""

    def __init__(self, occupant: Dict[Tile, str]) -> None:
        self.occupant = occupant  # tile -> id of our robot standing there now
        self.reserved: Set[Tile] = set()
        self.leaving: Set[str] = set()  # robots known to move off their tile

    def place(self, unit_id: str, here: Tile, tile: Tile) -> None:
        """The robot standing on `here` ends the step on `tile`."""
        self.reserved.add(tile)
        if tile != here:
            self.leaving.add(unit_id)

    def is_free(self, tile: Tile) -> bool:
        holder = self.occupant.get(tile)
        return tile not in self.reserved and (holder is None or holder in self.leaving)


@dataclass
class Mover(Generic[Label]):
    unit_id: str
    here: Tile
    first: List[Tuple[Label, Tile]]  # (move, the tile it leads to), tried from the first pass on
    side: List[Tuple[Label, Tile]] = field(default_factory=list)  # tried after `first` in the later passes


def place_movers(claims: TileClaims, movers: List[Mover]) -> Dict[str, Optional[Label]]:
    """Each mover's chosen move, None for a mover that stays (its own tile is then reserved)."""
    chosen: Dict[str, Optional[Label]] = {}
    for allow_side_steps in (False, True):
        progress = True
        while movers and progress:
            progress, waiting = False, []
            for mover in movers:
                options = mover.first + mover.side if allow_side_steps else mover.first
                for label, tile in options:
                    if claims.is_free(tile):
                        claims.place(mover.unit_id, mover.here, tile)
                        chosen[mover.unit_id] = label
                        progress = True
                        break
                else:
                    waiting.append(mover)
            movers = waiting
    for mover in movers:
        claims.place(mover.unit_id, mover.here, mover.here)
        chosen[mover.unit_id] = None
    return chosen
