"""The agent's tools (ReAct's), each defined once as a LangChain tool; the tool lists and the dispatch follow."""
