"""Command-line helpers around the agent and the trainer (not part of the submission)."""
