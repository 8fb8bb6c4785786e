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

    saved = Context(max_rounds=3, pages_per_round=2, extraction_model="small").to_dict()
    assert "extraction_model" not in Context(model="m").to_dict()  # the main model again: not a choice
    assert "started_at" not in saved
    assert "model" not in saved and "base_url" not in saved  # from the environment: read again on resume
    assert saved["extraction_model"] == "small"  # set for this run: kept
    again = Context.build(saved, max_rounds=None, search=None)
    assert again.max_rounds == 3 and again.pages_per_round == 2 and again.extraction_model == "small"
    assert Context.build(saved, max_rounds=9).max_rounds == 9
    assert Context.build({**saved, "unknown_key": 1}).max_rounds == 3  # older or newer threads' extra keys


def test_set_values_are_typed_and_checked() -> None:
    import pytest
    from pydantic import ValidationError

    from core.errors import ConfigError
    from state.context import Context

    assert Context.parse_assignments(["search=local", "max_rounds=4", "temperature=0.2"]) == {
        "search": "local", "max_rounds": 4, "temperature": 0.2}
    for bad in ["temperature=nan", "deadline_seconds=inf", "search=bing", "max_rounds=1.5", "max_rounds=51"]:
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            Context.parse_assignments([bad])
    for fields in [{"temperature": 3.0}, {"max_stalls": 0}, {"base_url": "localhost:8000"}, {"max_rounds": "8"},
                   {"review_plan": 1}, {"max_rounds": 10_000}]:
        with pytest.raises(ValidationError):  # what an API client sent: a ValueError the server passes on
            Context(**fields)
        with pytest.raises(ConfigError, match=next(iter(fields))):
            Context.build(fields)
