"""Frozen dataclass configs: :class:`RunConfig` is shared, each system extends it."""

from gamerl.config.base import RunConfig, config_from_dict, config_to_dict

__all__ = ["RunConfig", "config_from_dict", "config_to_dict"]
