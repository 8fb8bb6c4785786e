"""deepresearch: Tongyi DeepResearch inference (IterResearch) as a LangGraph application."""

__version__ = "0.1.0"
