"""rasa_runtime/graph_order.py: the kept order is dask's own, for every graph shape."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rasa_runtime import graph_order


def graph(edges: list[list[bool]], inputs: list[object]) -> dict:
    """A DAG of tasks n0..nk (a task depends only on earlier ones), each carrying an input value."""
    return {f"n{i}": (lambda *args: None, inputs[i % len(inputs)], *[f"n{j}" for j in range(i) if edges[i][j]])
            for i in range(len(edges))}


dags = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=n, max_size=n))


@settings(max_examples=150, deadline=None)
@given(dags, st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), min_size=1, max_size=3),
       st.lists(st.integers(), min_size=1, max_size=3))
def test_the_kept_order_is_dasks_own_whatever_the_inputs(edges, first_inputs, later_inputs):
    graph_order._orders.clear()
    first, later = graph(edges, first_inputs), graph(edges, later_inputs)
    assert graph_order.order(first) == graph_order._DASK_ORDER(first)
    assert graph_order.order(later) == graph_order._DASK_ORDER(later)   # the same shape: served from the kept one
    assert len(graph_order._orders) == 1


def test_a_caller_changing_its_copy_changes_nothing_kept():
    dsk = {"a": (print, 1), "b": (print, "a")}
    mine = graph_order.order(dsk)
    mine["a"] = 99
    assert graph_order.order(dsk) == graph_order._DASK_ORDER(dsk)
