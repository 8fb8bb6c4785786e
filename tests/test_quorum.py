"""Stragglers: a job far behind the rest of its batch is cancelled once most of the batch is in."""

from __future__ import annotations

import asyncio

import pytest

from tools.quorum import Late, Quorums


async def job(seconds: float, value: str) -> str:
    await asyncio.sleep(seconds)
    return value


async def test_the_late_job_is_cancelled_and_the_rest_keep_their_results() -> None:
    quorums = Quorums()
    results = await asyncio.gather(*(quorums.run("b", 3, 0.2, job(s, v)) for s, v in
                                     ((0.01, "a"), (0.02, "b"), (30.0, "slow"))), return_exceptions=True)
    assert results[:2] == ["a", "b"] and isinstance(results[2], Late) and "most of its round" in str(results[2])
    assert quorums.batches == {}  # forgotten once every job of the batch ended


async def test_no_quorum_no_cancellation() -> None:
    quorums = Quorums()
    # one of three in is not half: the slow ones run to their end
    results = await asyncio.gather(*(quorums.run("b", 3, 0.01, job(s, str(s))) for s in (0.01, 0.3, 0.3)))
    assert results == ["0.01", "0.3", "0.3"]


async def test_slow_but_within_three_times_the_median_is_not_late() -> None:
    quorums = Quorums()
    # late only after 3 x 0.2 s: the second job has 0.3 s to spare for a busy machine's scheduling delays
    results = await asyncio.gather(*(quorums.run("b", 2, 0.01, job(s, str(s))) for s in (0.2, 0.3)))
    assert results == ["0.2", "0.3"]


async def test_a_failing_job_counts_as_in() -> None:
    async def boom() -> str:
        raise ValueError("dead page")

    quorums = Quorums()
    results = await asyncio.gather(quorums.run("b", 2, 0.1, boom()), quorums.run("b", 2, 0.1, job(30, "slow")),
                                   return_exceptions=True)
    assert isinstance(results[0], ValueError) and isinstance(results[1], Late)


@pytest.mark.parametrize("total", [1])
async def test_a_batch_of_one_is_never_late(total: int) -> None:
    assert await Quorums().run("b", total, 0.01, job(0.1, "x")) == "x"
