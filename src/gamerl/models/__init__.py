"""Neural networks; each documents its tensor shapes."""
