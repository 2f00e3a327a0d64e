"""Clipped PPO with separate policy and value networks, for single- and multi-agent games."""
