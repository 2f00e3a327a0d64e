"""Environments: a registry of ids (lazy imports) and the adapters that keep each game's quirks inside."""
