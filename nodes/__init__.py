"""Graph nodes: one module per node; each is a small function (state, runtime) -> partial update."""
