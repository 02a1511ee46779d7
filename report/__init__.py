"""The presentation layer: a self-contained HTML report of one run, rendered from frames."""
