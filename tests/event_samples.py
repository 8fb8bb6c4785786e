"""Every progress event class, and an instance of each with every field set (built from its annotations)."""

from __future__ import annotations

import types
from dataclasses import fields
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from state.events import Event


def every_event_class() -> set[type[Event]]:
    """The subclasses of Event, at any depth: what a renderer must exist for."""
    found: set[type[Event]] = set()
    todo = list(Event.__subclasses__())
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def sample(cls: type[Event]) -> Event:
    """An instance with each field set to a value of its type (agent 7), so every optional part is exercised."""
    hints = get_type_hints(cls)
    values = {f.name: _value(hints[f.name]) for f in fields(cls)}
    return cls(**{**values, "agent": 7})


def _value(hint: Any) -> Any:
    if get_origin(hint) in (Union, types.UnionType):
        return _value(next(arg for arg in get_args(hint) if arg is not type(None)))
    if get_origin(hint) is list:
        return [_value(get_args(hint)[0]), _value(get_args(hint)[0])]
    if is_typeddict(hint):
        return {name: _value(tp) for name, tp in get_type_hints(hint).items()}
    examples: dict[Any, Any] = {str: "Glass Harbor ✓ <b>", int: 3, bool: True}
    return examples[hint]
