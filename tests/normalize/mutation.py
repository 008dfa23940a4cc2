"""Shared helpers of the normalisers' property tests: random JSON values, and mutating a real
payload at any path (replace or delete) to check a normaliser raises nothing but BadRecord."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=6,
)


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += paths(v, (*prefix, i))
    return out


def mutate(obj: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    for step in path[:-1]:
        try:
            obj = obj[step]
        except (KeyError, IndexError, TypeError):
            return
    try:
        if delete:
            del obj[path[-1]]
        else:
            obj[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass


def junk(*tricky: str) -> st.SearchStrategy[Any]:
    """Values that break naive parsers, plus a format's own ``tricky`` strings (bad dates, id
    prefixes, entity escapes)."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.just([]),
        st.just({}),
        st.sampled_from(tricky),
    )


@st.composite
def mutated(draw: st.DrawFn, pool: Sequence[Any], values: st.SearchStrategy[Any]) -> Any:
    """A real payload from ``pool`` with 1-6 values deleted or replaced by ``values``, at any depth."""
    obj = copy.deepcopy(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, 6))):
        node = obj
        while isinstance(node, (dict, list)) and node:
            key: Any = (
                draw(st.sampled_from(sorted(node)))
                if isinstance(node, dict)
                else draw(st.integers(0, len(node) - 1))
            )
            child = node[key]
            if isinstance(child, (dict, list)) and child and draw(st.booleans()):
                node = child
                continue
            if isinstance(node, dict) and draw(st.booleans()):
                del node[key]
            else:
                node[key] = draw(values)
            break
    return obj
