"""Row-level data structures: Paimon's binary row layout and row kinds."""
