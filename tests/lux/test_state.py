from __future__ import annotations

import numpy as np

from lux.state import Board


def board_with_strains(strains: np.ndarray) -> Board:
    zeros = np.zeros(strains.shape, dtype=np.int64)
    return Board(rubble=zeros, ice=zeros, ore=zeros, lichen=zeros, lichen_strains=strains,
                 valid_spawns_mask=zeros.astype(bool), factories_per_team=2, factory_occupancy=zeros - 1)


def test_lichen_tiles_of_a_team_are_the_tiles_of_its_strains():
    rng = np.random.RandomState(0)
    strains = rng.randint(-1, 6, size=(9, 7))  # -1: no lichen
    board = board_with_strains(strains)
    for team in ([0], [2, 5], [3, 9], [], [-1]):  # 9: a strain with no lichen left; -1 is never a strain
        want = np.isin(strains, [s for s in team if s >= 0])
        got = board.lichen_tiles_of(team)
        assert got.dtype == bool and got.shape == strains.shape
        assert np.array_equal(got, want), team
    assert not board_with_strains(np.full((3, 3), -1)).lichen_tiles_of([0, 1]).any()
