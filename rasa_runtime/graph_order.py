"""dask's task order for Rasa's graphs, computed once per graph shape.

Rasa runs its NLU and policy graphs through `dask.get` on every message; dask's local scheduler
orders the graph's tasks first (`dask.order.order`), from nothing but the task keys and their
dependencies, which are the same for every message of a loaded model (the inputs differ, not the
shape). That was 4-6% of the Rasa process's CPU in the benchmark. Here the order is kept per shape
(the keys and each key's dependencies): a graph of a new shape is ordered by dask itself, and
every caller gets its own copy of the mapping. Compared with dask's own on generated graphs.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping

import dask.local
from dask.core import get_dependencies

_DASK_ORDER = dask.local.order
SHAPES_KEPT = 64
_orders: OrderedDict[frozenset, dict] = OrderedDict()


def shape(dsk: Mapping, dependencies: Mapping) -> frozenset:
    return frozenset((key, frozenset(dependencies[key])) for key in dsk)


def order(dsk: Mapping, dependencies: Mapping | None = None) -> dict[Any, int]:
    """`dask.order.order(dsk)`, from the order kept for the graph's shape when there is one."""
    if dependencies is None:
        dependencies = {key: get_dependencies(dsk, key) for key in dsk}
    key = shape(dsk, dependencies)
    kept = _orders.get(key)
    if kept is None:
        kept = _DASK_ORDER(dsk, dependencies=dependencies)
        _orders[key] = kept
        while len(_orders) > SHAPES_KEPT:
            _orders.popitem(last=False)
    else:
        _orders.move_to_end(key)
    return dict(kept)


def install() -> None:
    dask.local.order = order
