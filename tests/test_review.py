"""Plan review: how a reviewer's answer becomes the round's plan."""

from nodes.review import edited_plan

PLAN = ("find the town", ["Glass Harbor film premiere"])


def test_approvals_keep_the_plan() -> None:
    for answer in ({"approve": True}, None, "yes", {}, {"queries": "not a list"}, 42):
        assert edited_plan(answer, *PLAN, set()) == PLAN


def test_edits_replace_queries_and_goal() -> None:
    assert edited_plan({"queries": ["a b", " A  B ", "c"], "goal": "new goal"}, *PLAN, set()) == ("new goal",
                                                                                                 ["a b", "c"])
    assert edited_plan(["x y"], *PLAN, set()) == ("find the town", ["x y"])
    assert edited_plan({"goal": "  "}, *PLAN, set()) == PLAN


def test_queries_already_run_are_dropped_and_never_leave_the_round_empty() -> None:
    assert edited_plan({"queries": ["old one", "new one"]}, *PLAN, {"old one"}) == ("find the town", ["new one"])
    assert edited_plan({"queries": ["old one"]}, *PLAN, {"old one"}) == PLAN
