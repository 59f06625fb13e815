"""Heuristics: bidding, factory placement, factory actions and the heuristic unit controller (numpy only)."""
