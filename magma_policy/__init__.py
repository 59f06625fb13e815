"""The unit policy shared by the agent and the trainer: features, action codec, network, export, runtime."""
