"""Grounded citations: each cited sentence checked against the stored text of its source, with no model call.

Pure functions (no I/O): the node that uses them (nodes/grounding.py) fetches the texts.
"""
