"""Game-state layer for Lux AI Season 2: configuration, observations, board, units, factories, actions.

Runs on Python 3.7 with numpy only (Kaggle's agent runtime); it never imports luxai_s2.
"""
