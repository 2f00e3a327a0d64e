"""Run machinery shared by every system: run directories, seeding, logging, checkpoints, progress."""
