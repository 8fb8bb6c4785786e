"""Every word the model is told, in one place: one module per mode or concern.

The rule: each instruction, frame or note sent to a model is a constant here, with named placeholders
(``{question}``, ``{date}``); the nodes and clients import it and ``.format()`` it with their values,
page-derived ones fenced first (fences.py). Nothing outside this package writes prompt text, with two
exceptions: an agent tool's description and argument descriptions, part of the tool's one definition
(tools/agent/builtin.py), and the results and notes a tool formats itself. What a failure says (a
parser's ParseError, a refused call) is data a prompt quotes in its ``{error}``, not instruction.

The package is a leaf: it imports only core (tests/test_prompts.py checks that no module elsewhere holds
a prompt, lint-imports the layer).

- fences.py: the date, the fences that keep page text data, and the frames every mode shares.
- iterresearch.py: the planner, the page reader, the report writer, the final writer, and the workspace.
- native.py: IterResearch's round in the format it was trained on (one user message, tags).
- react.py: the ReAct agent's system prompt, its forced answer, and what the tool step tells the model.
- heavy.py: the agents' angles and the Research-Synthesis call.
- model.py: the model client's repair instruction and the capability probe's requests.
- judges.py: the evaluation's LLM graders, as their benchmarks wrote them.
"""
