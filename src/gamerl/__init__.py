"""gamerl: train agents that play video games (World Models, policy gradients from pixels, multi-agent PPO)."""

__version__ = "0.1.0"
