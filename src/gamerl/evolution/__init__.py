"""Evolution strategies (pycma's CMA-ES) and the evaluators that score their candidates."""
