"""Tools: model client, structured-output parsing, documents, local corpus, search and reading.

Tools know nothing of graphs: they take plain arguments and return typed values.
"""
