from state.records import Source
from state.reducers import extend_all, keep_last, merge_sources


def s(url: str, used: bool, round_: int = 1) -> Source:
    return Source(url=url, title=url, page_hash="", n=0 if used else None, round=round_)


def numbers(sources: list[Source]) -> dict[str, int | None]:
    return {x["url"]: x["n"] for x in sources}


def test_sources_are_numbered_by_first_use_and_never_renumbered() -> None:
    state = merge_sources([], [[s("a", False), s("b", True)], [s("c", True)]])
    assert numbers(state) == {"a": None, "b": 1, "c": 2}
    state = merge_sources(state, [[s("a", True), s("b", True, 2)], [s("d", True)]])
    assert numbers(state) == {"a": 3, "b": 1, "c": 2, "d": 4}


def test_merge_sources_is_batching_invariant_and_pure() -> None:
    writes = [[s("a", True)], [s("b", False)], [s("b", True), s("c", True)], [s("a", True)]]
    once = merge_sources([], writes)
    stepwise: list[Source] = []
    for w in writes:
        stepwise = merge_sources(stepwise, [w])
    assert once == stepwise
    before = list(once)
    merge_sources(once, [[s("z", True)]])
    assert once == before


def test_extend_all_and_keep_last() -> None:
    assert extend_all(["q1"], [["q2"], ["q3", "q4"]]) == ["q1", "q2", "q3", "q4"]
    assert keep_last(2)([1, 2], [3]) == [2, 3]


def test_context_round_trip_keeps_saved_values_under_none_overrides() -> None:
    from state.context import Context

    saved = Context(max_rounds=3, pages_per_round=2, model="m-explicit").to_dict()
    assert "model" not in saved and "started_at" not in saved  # the endpoint comes from the environment
    again = Context.from_dict(saved, max_rounds=None, search=None)
    assert again.max_rounds == 3 and again.pages_per_round == 2
    assert Context.from_dict(saved, max_rounds=9).max_rounds == 9
