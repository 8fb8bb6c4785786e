"""The agent's tools in one list, and everything derived from it: the tool lists the model is shown and the dispatch.

A tool is a LangChain ``BaseTool`` (ours in tools/agent/builtin.py; MCP tools arrive as such too): adding
one to the registry offers it in the native prompt's ``<tools>`` and in the OpenAI ``tools`` sent in
tool-calling mode, bounds its arguments, and runs it, with nothing else to change. A tool whose metadata
says ``requires`` a kit attribute is offered only when the run has it (PythonInterpreter: a sandbox).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ValidationError

from prompts.fences import fence
from tools.agent.builtin import BUILTIN
from tools.agent.kit import Arg, FromRun, InCodeTag, ToolKit

CODE = "code"  # the argument a reply's <code> fills


@dataclass(frozen=True)
class Spec:
    """One argument the model sets: its bound (None: kept whole up to ARGUMENT_CHARS of JSON), and if it is a list."""

    arg: Arg | None
    many: bool = False
    in_code: bool = False  # written in <code> after the call's JSON, not in it


@dataclass(frozen=True)
class Ran:
    """What a call gave: the text the model reads and what the thread records, or why its arguments were unusable."""

    text: str = ""
    recorded: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def _marked(metadata: list[Any], marker: type) -> bool:
    return any(m is marker or (isinstance(m, type) and issubclass(m, marker)) for m in metadata)


def specs(tool: BaseTool) -> dict[str, Spec]:
    """The arguments of ``tool`` a model may set (never ``kit``), each with its bound."""
    schema = tool.args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return {name: Spec(next((m for m in info.metadata if isinstance(m, Arg)), None),
                           getattr(info.annotation, "__origin__", None) is list, _marked(info.metadata, InCodeTag))
                for name, info in schema.model_fields.items() if not _marked(info.metadata, FromRun)}
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return {name: Spec(None, isinstance(p, dict) and p.get("type") == "array") for name, p in properties.items()}


def _takes_kit(tool: BaseTool) -> bool:
    schema = tool.args_schema
    return (isinstance(schema, type) and issubclass(schema, BaseModel)
            and any(_marked(info.metadata, FromRun) for info in schema.model_fields.values()))


def _problem(name: str, tool: BaseTool, exc: ValidationError) -> str:
    """Why a call's arguments cannot run, in the model's terms."""
    if all(e["type"] in ("missing", "too_short") for e in exc.errors()):
        code = any(s.in_code for s in specs(tool).values())
        return f"the {name} call is missing its arguments" + (" (the code goes in <code>)" if code else "")
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
    return f"the {name} call's arguments do not fit its schema ({problems})"


@dataclass(frozen=True)
class Registry:
    """The agent's tools, in the order the model is shown them."""

    tools: tuple[BaseTool, ...] = BUILTIN

    def with_tools(self, *more: BaseTool) -> Registry:
        """The registry with more tools (a name already taken is replaced)."""
        names = {t.name for t in more}
        return replace(self, tools=(*(t for t in self.tools if t.name not in names), *more))

    def named(self, name: str) -> BaseTool | None:
        """The tool called ``name``, offered or not (its arguments are bounded alike)."""
        return next((t for t in self.tools if t.name == name), None)

    def offered(self, kit: ToolKit) -> list[BaseTool]:
        """The tools this run offers: those whose ``requires`` the kit has."""
        return [t for t in self.tools if not (t.metadata or {}).get("requires")
                or getattr(kit, str((t.metadata or {})["requires"]), None)]

    def openai_tools(self, kit: ToolKit) -> list[dict[str, Any]]:
        """The offered tools as OpenAI function tools (the ``tools`` of a call, and each line of ``<tools>``)."""
        return [convert_to_openai_tool(t) for t in self.offered(kit)]

    def native_list(self, kit: ToolKit) -> str:
        """The ``<tools>`` content of the native system prompt: one JSON schema a line."""
        return "\n".join(json.dumps(t, ensure_ascii=False) for t in self.openai_tools(kit))

    async def run(self, name: str, arguments: dict[str, Any], kit: ToolKit) -> Ran | None:
        """Run an offered tool with the (bounded) arguments, the kit given to a tool that takes it; None if not offered.

        Arguments that do not fit the tool's schema come back as ``error``; a tool that fails (ToolException)
        says so in its text. Text from a tool that does not fence its own is fenced whole.
        """
        tool = next((t for t in self.offered(kit) if t.name == name), None)
        if tool is None:
            return None
        inputs = {**arguments, **({"kit": kit} if _takes_kit(tool) else {})}
        try:
            message = await tool.ainvoke({"type": "tool_call", "id": name, "name": name, "args": inputs})
        except ValidationError as exc:
            return Ran(error=_problem(name, tool, exc))
        except ToolException as exc:
            return Ran(text=fence(f"The {name} tool failed: {exc}"))
        text = message.text if isinstance(message, ToolMessage) else str(message)
        recorded = message.artifact if isinstance(message, ToolMessage) and isinstance(message.artifact, dict) else {}
        return Ran(text if (tool.metadata or {}).get("fenced") else fence(text), recorded)


REGISTRY = Registry()
