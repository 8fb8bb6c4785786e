"""Typed graph state, its reducers, the run context and the citation rules."""
