"""The toy model's roles that need no scenario: the grader, Heavy's synthesis, the long report's outline and sections.

Each answers from what its prompt shows, like the rest of the toy model (tests/fakes/toy_model.py).
"""

from __future__ import annotations

import re
from typing import Any


def grade(user: str) -> dict[str, Any]:
    """A grader that reads the response's answer and compares it with the correct one."""
    response = re.search(r"\[response\]: (.*?)\n\n\[correct_answer\]", user, re.S)
    correct = re.search(r"\[correct_answer\]: (.*?)\n", user)
    said, gold = (response.group(1).strip() if response else ""), (correct.group(1).strip() if correct else "")
    return {"extracted_final_answer": said, "reasoning": "compared", "correct": "yes" if said == gold else "no",
            "confidence": 90}


def synthesis(user: str) -> dict[str, Any]:
    """Follow the answer most agents reached with cited support (a report without an answer counts less)."""
    reports = re.findall(r'<report agent="(\d+)" answer="([^"]*)">\n(.*?)\n</report>', user, re.S)
    backed = [(answer, body) for _, answer, body in reports
              if answer not in ("", "not determined", "unknown") and re.search(r"\[\d+\]", body)]
    if not backed:
        return {"reasoning": "no report has a supported answer", "answer": "not determined", "report": ""}
    votes = {a: sum(1 for b, _ in backed if b == a) for a, _ in backed}
    answer, body = max(backed, key=lambda pair: (votes[pair[0]], len(re.findall(r"\[\d+\]", pair[1]))))
    return {"reasoning": f"{votes[answer]} of {len(reports)} agents agree, with citations",
            "answer": answer, "report": body}


def outline(parts: dict[str, str], system: str) -> dict[str, Any]:
    """Sections of two sources each, in the order listed, titled after their first source (at most as told)."""
    listed = re.findall(r"^\[(\d+)\] (.*?) — .*\n((?:  - .*\n?)*)", parts.get("sources", ""), re.M)
    most = int(re.search(r"At most (\d+) sections", system).group(1))  # type: ignore[union-attr]
    pairs = [listed[i:i + 2] for i in range(0, len(listed), 2)][:most]
    return {"sections": [{"title": f"On {pair[0][1]}", "covers": pair[0][2].strip(" -\n").split("\n")[0],
                          "sources": [int(n) for n, _, _ in pair]} for pair in pairs]}


def section(user: str) -> str:
    """Each document's statements, cited with the document's number as this prompt shows it."""
    documents = re.findall(r'<document n="(\d+)"[^>]*>\n(.*?)\n\n', user, re.S)
    return "\n\n".join(f"{line} [{k}]" for k, said in documents for line in said.splitlines() if line.strip())
