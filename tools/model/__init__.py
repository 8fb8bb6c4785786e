"""The model client.

ChatOpenAI against any OpenAI-compatible endpoint, structured output and its fallbacks, and the endpoint's
capabilities (probed and remembered).
"""
