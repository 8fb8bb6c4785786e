"""Rollouts through a LangGraph server (`eval --server URL`): `langgraph dev` here, or a deployment.

Each rollout is a server thread with the same id it would have here, so an eval run again resumes the
same way: a finished thread is read back, a stopped one continued.
"""

from __future__ import annotations

from typing import Any

from deepresearch import runner
from deepresearch.evaluation.data import Item
from state.context import Context


class RemoteResearch:
    """Runs one rollout as a thread of the server's graph ``graph_id`` with the eval's run settings."""

    def __init__(self, url: str, graph_id: str, ctx: Context) -> None:
        from langgraph_sdk import get_client

        self.client = get_client(url=url)
        self.graph_id = graph_id
        # only what was set for this eval: the rest are the server's own defaults (its endpoint among them)
        self.context = ctx.model_dump(exclude_unset=True)

    async def __call__(self, thread_id: str, item: Item) -> runner.RunResult:
        """The rollout's result: run, continued, or (already finished) read."""
        await self.client.threads.create(thread_id=thread_id, if_exists="do_nothing",
                                          metadata={"graph_id": self.graph_id})
        state: Any = await self.client.threads.get_state(thread_id)
        values = state.get("values") or {}
        if not values.get("done"):
            started = bool(values.get("question"))  # stopped mid-way last time: on from there
            await self.client.runs.wait(thread_id, self.graph_id, input=None if started else {
                "question": item.question}, context=self.context, raise_error=True)
            values = (await self.client.threads.get_state(thread_id)).get("values") or {}
        return runner.result_from_values(thread_id, "done" if values.get("done") else "unfinished",
                                         {"question": item.question, **values})
