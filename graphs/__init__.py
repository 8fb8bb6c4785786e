"""Graph assembly: wiring only (nodes and edges)."""
