"""The model's word on the cited sentences the cheap check could not decide: one batched call, a verdict each.

The sentences (a paraphrase, a translation, a number written another way) are listed with the source each
cites, and each source is shown as a bounded excerpt: its passages around the words of the sentences that
cite it (never the whole page), fenced, since page text is data. The call is structured output with the
same fallbacks as every other (tools/model/llm_json.py); a failed call or an unusable reply leaves every
asked sentence as cited, and says why (``Verification.error``), never ending the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from prompts.fences import attribute, fence, today
from prompts.verify import EXCERPT, SENTENCE, SYSTEM, USER
from state.context import Context
from state.records import Source
from tools.documents.passages import focus_text
from tools.grounding.attribution import Judged
from tools.grounding.check import plain
from tools.grounding.verdicts import Asked, Verdicts, applied, to_ask
from tools.model.llm import Usage, guarded
from tools.model.llm_json import complete_json
from tools.toolbox import toolbox

EXCERPT_CHARS = 1500  # of one source's text shown to the checker: the passages around the sentences' words
VERIFY_TOKENS = 2048  # the reply's completion tokens: a verdict and a short reason for each asked sentence


@dataclass(frozen=True)
class Verification:
    """The judgements after the model's verdicts, what the call cost, how many it decided, and why it failed."""

    judged: list[Judged]
    usage: Usage = field(default_factory=Usage)
    decided: int = 0
    error: str = ""


def _sentence(judged: list[Judged], asked: Asked) -> str:
    return " ".join(plain(judged[asked.index].claim.text).split())


def verify_messages(judged: list[Judged], asked: list[Asked], texts: dict[int, str],
                    sources: dict[int, Source]) -> list[BaseMessage]:
    """The checker's prompt: the asked sentences, then each cited source's excerpt around their words, fenced."""
    sentences = "\n".join(SENTENCE.format(id=a.id, n=a.n, text=fence(_sentence(judged, a))) for a in asked)
    documents = []
    for n in sorted({a.n for a in asked}):
        focus = " ".join(_sentence(judged, a) for a in asked if a.n == n)
        documents.append(EXCERPT.format(n=n, title=attribute(sources[n]["title"]), url=attribute(sources[n]["url"]),
                                        text=fence(focus_text(texts[n], focus, EXCERPT_CHARS))))
    return [SystemMessage(SYSTEM.format(date=today())),
            HumanMessage(USER.format(sentences=sentences, documents="\n\n".join(documents)))]


async def verify(ctx: Context, judged: list[Judged], texts: dict[int, str], sources: dict[int, Source],
                 calls: int) -> Verification:
    """``judged`` with the model's verdicts on its undecided pairs, in one call (its repair too when ``calls`` ≥ 2).

    No call when nothing is undecided or ``calls`` is 0 (the budget is spent): the undecided stay as cited.
    """
    asked = [a for a in to_ask(judged) if a.n in texts]
    if not asked or calls < 1:
        return Verification(judged)
    endpoint = (await toolbox(ctx)).endpoint
    outcome = await guarded(partial(complete_json, endpoint, verify_messages(judged, asked, texts, sources),
                                    Verdicts, repair=calls >= 2, deadline=ctx.deadline_at, max_tokens=VERIFY_TOKENS))
    if outcome.value is None:
        return Verification(judged, outcome.usage, error=f"the citation check's call failed: {outcome.error}")
    after, decided = applied(judged, asked, outcome.value)
    return Verification(after, outcome.usage, decided)
