"""Lux action vectors, written from the specs.

A robot's action is a 6-vector `[type, direction, resource, amount, repeat, n]`; a robot receives a queue
(list) of them, at most `UNIT_ACTION_QUEUE_SIZE`. Replacing a queue costs power (light 1, heavy 10).
`repeat > 0` puts the action back at the end of the queue with `n = repeat` after it is used up.
A factory's action is one integer.
"""
from __future__ import annotations

from typing import List

import numpy as np

# Action types.
MOVE, TRANSFER, PICKUP, DIG, SELF_DESTRUCT, RECHARGE = 0, 1, 2, 3, 4, 5

# Directions and their (dx, dy) on the board (x grows right, y grows down).
CENTER, UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3, 4
DIRECTION_DELTAS = np.array([[0, 0], [0, -1], [1, 0], [0, 1], [-1, 0]], dtype=np.int64)
# The same as plain int pairs, indexed by direction: cheaper than numpy where robots are handled one by one.
DIRECTION_STEPS = [(int(dx), int(dy)) for dx, dy in DIRECTION_DELTAS]

# Resource ids.
ICE, ORE, WATER, METAL, POWER = 0, 1, 2, 3, 4

# Factory actions.
BUILD_LIGHT, BUILD_HEAVY, WATER_LICHEN = 0, 1, 2

UnitAction = List[int]


def move(direction: int, repeat: int = 0, n: int = 1) -> UnitAction:
    return [MOVE, int(direction), 0, 0, int(repeat), int(n)]


def transfer(direction: int, resource: int, amount: int, repeat: int = 0, n: int = 1) -> UnitAction:
    return [TRANSFER, int(direction), int(resource), int(amount), int(repeat), int(n)]


def pickup(resource: int, amount: int, repeat: int = 0, n: int = 1) -> UnitAction:
    return [PICKUP, 0, int(resource), int(amount), int(repeat), int(n)]


def dig(repeat: int = 0, n: int = 1) -> UnitAction:
    return [DIG, 0, 0, 0, int(repeat), int(n)]


def self_destruct(repeat: int = 0, n: int = 1) -> UnitAction:
    return [SELF_DESTRUCT, 0, 0, 0, int(repeat), int(n)]


def recharge(power_level: int, repeat: int = 0, n: int = 1) -> UnitAction:
    return [RECHARGE, 0, 0, int(power_level), int(repeat), int(n)]


def direction_to(src: np.ndarray, dst: np.ndarray) -> int:
    """One step direction from src toward dst (x first when both differ); CENTER when equal."""
    dx, dy = int(dst[0] - src[0]), int(dst[1] - src[1])
    if dx == 0 and dy == 0:
        return CENTER
    if abs(dx) >= abs(dy):
        return RIGHT if dx > 0 else LEFT
    return DOWN if dy > 0 else UP
