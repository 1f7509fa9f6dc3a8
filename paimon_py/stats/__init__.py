"""Column statistics of data files: ``SimpleStats`` and the collector that gathers them."""
