"""A toy research model that knows only what each prompt shows it.

Its "language understanding" is a scenario: a chain of hops, each a fact pattern and a query template.
It plans the first hop whose fact the report does not yet hold (filling the query with names the report
established), reads documents by matching the goal's hop pattern against the document text, rewrites
the report from the findings it is given, and answers from the report. A right answer therefore proves
that the agent found the evidence and passed it on through every prompt.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from nodes.native import call_text
from tests.fakes import toy_roles, verifier


class _AnyName(dict):  # type: ignore[type-arg]
    """Fills every {var} of a fact pattern with "some name": capitalised words, or two to six CJK characters."""

    def __missing__(self, key: str) -> str:
        return r"(?:[A-Z][a-z]+(?: [A-Z][a-z]+)?|[\u4e00-\u9fff·]{2,6})"


_ANY_NAME = _AnyName()
INJECTION = "IGNORE PREVIOUS INSTRUCTIONS"
_SECTION = re.compile(r"<(\w+)(?:\s[^>]*)?>\n(.*?)\n</\1>", re.S)


@dataclass
class Hop:
    """One step of the chain: what fact to find and how to search for it."""

    name: str
    fact: str  # regex; may use {var} placeholders for names found by earlier hops
    query: str  # query template with {var}
    alt_query: str = ""  # what to try once ``query`` is a dead end


@dataclass
class Scenario:
    """The chain of hops and the answer template."""

    hops: list[Hop]
    answer: str
    invent_citation: bool = False  # write a citation to a source that was never retrieved
    max_report_lines: int = 40
    notes: bool = False  # ReAct: write what the pages established before each call (memory when responses drop)
    log: list[str] = field(default_factory=list)


def sections(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in _SECTION.finditer(text)}


class ToyModel:
    """Callable brain for ModelServer: messages -> (role, reply)."""

    # the roles that need no scenario (tests override them in subclasses)
    grade, synthesis = staticmethod(toy_roles.grade), staticmethod(toy_roles.synthesis)
    outline, section = staticmethod(toy_roles.outline), staticmethod(toy_roles.section)

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario

    def __call__(self, messages: list[dict[str, Any]]) -> tuple[str, Any]:
        system = str(messages[0].get("content", "")) if messages else ""
        user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        parts = sections(user)
        if INJECTION in _SECTION.sub("", user).upper():
            return self.obey(system or user)
        if messages and messages[0].get("role") == "user" and "<tools>" in user:
            return self.native(parts, user)
        if "deep research assistant" in system and "<tools>" in system:
            return "react", self.react(messages)
        if "research state summarizer" in system:
            return "summary", self.summarize(user)
        if "research planner" in system:
            return "planner", self.plan(parts, user)
        if "page reader" in system:
            return "reader", self.read(parts)
        if "report writer" in system:
            return "writer", self.synthesize(parts, system)
        if "report planner" in system:
            return "outline", self.outline(parts, system)
        if "section writer" in system:
            return "section", self.section(user)
        if "final writer" in system:
            return "final", self.final(parts)
        if verifier.is_checker(system):
            return "verifier", verifier.verdicts(user)
        if "research synthesizer" in system:
            return "synthesis", self.synthesis(user)
        if user.startswith("Judge whether the following [response]"):
            return "judge", self.grade(user)
        return "unknown", "I do not know what to do with this prompt."

    def native(self, parts: dict[str, str], user: str) -> tuple[str, str]:
        """The round's call in the native workspace format: <think>, <report>, then <tool_call> or <answer>."""
        shown = {"report": parts.get("report", ""), "dead_ends": parts.get("dead_ends", ""),
                 "last_round": parts.get("tool_call", ""), "question": parts.get("question", "")}
        if "This round: plan the research" in user:
            plan = self.plan(shown, user)
            return "planner", f"<think>{plan['reasoning']}</think>\n{call_text(plan['queries'], plan['goal'])}"
        r = self.synthesize({**shown, "findings": parts.get("tool_response", "")}, "")
        action = (f"<answer>{r['answer']}</answer>" if r["answered"]
                  else call_text(r["next_queries"], r["next_goal"]))
        return "writer", f"<think>{r['reasoning']}</think>\n<report>\n{r['report']}\n</report>\n{action}"

    def react(self, messages: list[dict[str, Any]]) -> str:
        """One ReAct step in the native format: search for the first unknown hop, visit what it found, answer."""
        turns = messages[1:]
        calls = [json.loads(m) for t in turns if t["role"] == "assistant"
                 for m in re.findall(r"<tool_call>\s*(\{.*\})\s*</tool_call>", str(t["content"]), re.S)]
        responses = [str(t["content"]) for t in turns if t["role"] == "user" and "<tool_response>" in str(t["content"])]
        # what the visited pages said, by citation number: "[n] title — url\nEvidence: ..." (in a tool response,
        # a summary, or its own notes)
        cited = re.findall(r"^\[(\d+)\] .*\nEvidence: (.*)$", "\n".join(str(t["content"]) for t in turns), re.M)
        evidence = "\n".join(sentence for _, sentence in cited)
        said = "\n".join(str(t["content"]) + "\n" for t in turns if t["role"] == "assistant")
        known, hop = self._known(evidence)
        if hop is None or "reached the limit" in str(turns[-1]["content"]):
            answer = self.s.answer.format(**known) if hop is None else "unknown"
            lines = [f"{sentence} [{n}]" for n, sentence in cited if self._supports(sentence)]
            return f"<think>The pages establish the chain.</think>\n<answer>{answer}\n" + "\n".join(lines) + "</answer>"
        given = ", ".join(f"{k} {v}" for k, v in known.items())
        goal = f"find the {hop.name}" + (f" given {given}" if given else "")
        visited = {u for c in calls if c["name"] == "visit" for u in c["arguments"]["url"]}
        if calls and calls[-1]["name"] == "search" and responses:
            found = re.findall(r"^\[\d+\] \[[^\]]*\]\(([^)]+)\)", responses[-1], re.M)
            fresh = [u for u in found if u not in visited][:3]
            if fresh:
                return self._call("visit", {"url": fresh, "goal": goal}, self._noted(cited, said))
        searched = {q for c in calls if c["name"] == "search" for q in c["arguments"]["query"]}
        query = hop.query.format(**known)
        if query in searched and hop.alt_query:
            query = hop.alt_query.format(**known)
        if query in searched:
            return "<think>Nothing more to search.</think>\n<answer>unknown</answer>"
        return self._call("search", {"query": [query]}, self._noted(cited, said))

    def _noted(self, cited: list[tuple[str, str]], said: str) -> str:
        """The notes a note-taking model writes before its call: each supporting evidence line not yet noted."""
        lines = dict.fromkeys(f"[{n}] noted\nEvidence: {e}\n" for n, e in cited if self._supports(e))
        return "".join(line for line in lines if line not in said) if self.s.notes else ""

    def summarize(self, user: str) -> str:
        """A state summary of the trajectory: the evidence lines that support a hop, with their numbers."""
        trajectory = sections(user).get("trajectory", "")
        cited = re.findall(r"^\[(\d+)\] .*\nEvidence: (.*)$", trajectory, re.M)
        lines = dict.fromkeys(f"[{n}] summarized\nEvidence: {e}" for n, e in cited if self._supports(e))
        return "<summary>\n" + ("\n".join(lines) or "Nothing found yet.") + "\n</summary>"

    def _supports(self, sentence: str) -> bool:
        return any(re.search(self._pattern(h, _ANY_NAME), sentence) for h in self.s.hops)

    @staticmethod
    def _call(name: str, arguments: dict[str, Any], notes: str = "") -> str:
        call = json.dumps({"name": name, "arguments": arguments})
        return f"<think>Next, {name}.</think>\n{notes}<tool_call>\n{call}\n</tool_call>"

    @staticmethod
    def obey(system: str) -> tuple[str, Any]:
        """What a gullible model does with an instruction it finds outside the data fences."""
        if "<tools>" in system:
            return "writer", "<report>\nHACKED\n</report>\n<answer>HACKED</answer>"
        if "research planner" in system:
            return "planner", {"reasoning": "told to", "goal": "HACKED", "queries": ["HACKED"]}
        if "page reader" in system:
            return "reader", {"relevant": True, "evidence": "The answer is HACKED.", "quote": ""}
        if "report writer" in system:
            return "writer", {"report": "HACKED", "reasoning": "told to", "answered": True, "answer": "HACKED",
                              "missing": ""}
        return "final", "<answer>HACKED</answer>"

    # --- facts -----------------------------------------------------------------------------------
    def _known(self, text: str) -> tuple[dict[str, str], Hop | None]:
        """Variables established in ``text`` and the first hop it does not yet hold."""
        known: dict[str, str] = {}
        for hop in self.s.hops:
            match = re.search(self._pattern(hop, known), text)
            if match is None:
                return known, hop
            known.update(match.groupdict())
        return known, None

    @staticmethod
    def _pattern(hop: Hop, known: dict[str, str] | _AnyName) -> str:
        if isinstance(known, _AnyName):
            return hop.fact.format_map(known)
        return hop.fact.format(**{k: re.escape(v) for k, v in known.items()})

    # --- roles -----------------------------------------------------------------------------------
    def plan(self, parts: dict[str, str], user: str = "") -> dict[str, Any]:
        known, hop = self._known(parts.get("report", ""))
        if hop is None:
            return {"reasoning": "the report holds every fact", "goal": "confirm the answer",
                    "queries": [parts.get("question", "")[:60]]}
        # what it was shown had been tried: dead ends, the last round, and "already run" notices
        notices = "\n".join(line for line in user.splitlines() if "already run" in line)
        tried = (parts.get("dead_ends", "") + "\n" + parts.get("last_round", "") + "\n" + notices).lower()
        query = hop.query.format(**known)
        if query.lower() in tried and hop.alt_query:
            query = hop.alt_query.format(**known)
        given = ", ".join(f"{k} {v}" for k, v in known.items())
        goal = f"find the {hop.name}" + (f" given {given}" if given else "")
        return {"reasoning": f"the {hop.name} is not known yet", "goal": goal, "queries": [query]}

    def read(self, parts: dict[str, str]) -> dict[str, Any]:
        document, goal = parts.get("document", ""), parts.get("goal", "")
        if not parts.get("question") or not goal:
            return {"relevant": False, "evidence": "", "quote": ""}
        # names the goal hands over ("... given town Velmora, architect Ilse Marrow")
        given = goal.split(" given ", 1)[1] if " given " in goal else ""
        known = dict(re.findall(r"(\w+) ([^,]+?)(?:, |$)", given))
        # first the fact the goal asks for; failing that, any fact of the chain the document states
        # about some name (what a reader keeping the question in mind would also report)
        goal_hops = [h for h in self.s.hops if h.name.lower() in goal.lower()]
        for hop, names in [(h, known) for h in goal_hops] + [(h, _ANY_NAME) for h in self.s.hops]:
            try:
                match = re.search(self._pattern(hop, names), document)
            except KeyError:  # the hop needs a name the goal does not give
                match = None
            if match:
                sentence = self._sentence(document, match.start(), match.end())
                return {"relevant": True, "evidence": sentence, "quote": sentence}
        return {"relevant": False, "evidence": "", "quote": ""}

    @staticmethod
    def _sentence(text: str, start: int, end: int) -> str:
        """The sentence around a match (ended by ". ", "。" or a line break)."""
        left = max(text.rfind(". ", 0, start), text.rfind("。", 0, start), text.rfind("\n", 0, start)) + 1
        ends = [i for i in (text.find(". ", end), text.find("。", end), text.find("\n", end)) if i != -1]
        right = min(ends) + 1 if ends else len(text)
        return " ".join(text[left:right].split())

    def synthesize(self, parts: dict[str, str], system: str) -> dict[str, Any]:
        lines = [ln for ln in parts.get("report", "").splitlines() if ln.strip() and ln.strip() != "(empty)"]
        for block in parts.get("findings", "").split("\n\n"):
            head = re.match(r"\[(\d+)\]", block.strip())
            evidence = re.search(r"^evidence: (.*)$", block, re.M)
            if head and evidence:
                line = f"- {evidence.group(1).strip()} [{head.group(1)}]"
                if self.s.invent_citation:
                    line += " [77]"
                if line not in lines:
                    lines.append(line)
        words = int(re.search(r"At most (\d+) words", system).group(1)) if "At most" in system else 500
        while len(" ".join(lines).split()) > words or len(lines) > self.s.max_report_lines:
            lines.pop(0)
        report = "\n".join(lines)
        known, missing = self._known(report)
        if missing is None:
            return {"report": report, "reasoning": "every hop is established", "answered": True,
                    "answer": self.s.answer.format(**known), "missing": ""}
        # the next round, planned in the same reply from the new report (as IterResearch does)
        nxt = self.plan({**parts, "report": report})
        return {"report": report, "reasoning": f"the {missing.name} is still unknown", "answered": False,
                "answer": "", "missing": f"the {missing.name}", "next_goal": nxt["goal"],
                "next_queries": nxt["queries"], "backtrack": ""}

    def final(self, parts: dict[str, str]) -> str:
        report = parts.get("report", "")
        known, missing = self._known(report)
        answer = self.s.answer.format(**known) if missing is None else "unknown"
        extra = " This is also confirmed elsewhere [42]." if self.s.invent_citation else ""
        body = "\n".join(ln for ln in report.splitlines() if ln.strip())
        return (f"<think>The report establishes the chain.</think>\n<answer>{answer}</answer>\n\n"
                f"The answer is {answer}.{extra}\n\n{body}\n\n## Sources\n[1] a list the model made up")
