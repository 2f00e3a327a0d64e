"""Judge and watch agents: evaluation, videos and figures."""
