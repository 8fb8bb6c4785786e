"""The names users choose from: research modes, search backends, structured-output methods.

Kept apart from the code behind them so the CLI can offer the choices without loading it.
"""

from __future__ import annotations

from typing import Literal, get_args

StructuredMethod = Literal["json_schema", "tool_calling", "text"]  # how one call asks for JSON
# the setting: a method forced, or auto (the one the server's probed capabilities chose, tools/model/capabilities.py)
StructuredSetting = Literal["auto", "json_schema", "tool_calling", "text"]
# how a server is told the most tokens a reply may take: OpenAI's current name, or the older one that some
# servers alone honour (llama-cpp-python's server ignores max_completion_tokens and generates to the context's end)
OutputLimit = Literal["max_completion_tokens", "max_tokens"]
SearchBackendName = Literal["local", "duckduckgo", "searxng", "serper", "tavily", "auto"]
SEARCH_BACKENDS: tuple[str, ...] = get_args(SearchBackendName)
ModeName = Literal["iterresearch", "react", "heavy"]  # each the id of its graph (langgraph.json)
JudgeName = Literal["exact", "browsecomp", "gaia", "xbench", "auto"]  # eval --judge
ReactToolFormat = Literal["auto", "tags", "openai"]
PromptFormat = Literal["json", "native"]  # JSON per node, or the round's call as IterResearch was trained
ReportLength = Literal["short", "long"]  # the final report: built from the evolving one, or written at length
MODES: tuple[ModeName, ...] = get_args(ModeName)
