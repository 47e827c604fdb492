"""Subgraphs and control flow: ``call``, ``cond`` and ``while_loop``.

Each runs subgraphs kept in the main graph's subgraph list. Branch and loop functions are traced
into subgraphs; values of the surrounding graphs they use become extra subgraph inputs, which
the node passes along (kiln's form of closures).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, List, Optional, Sequence

from ...dtype import DType
from .. import _emit
from ..graph import Graph
from ..type import TensorType, Type
from ..value import TensorValue, Value
from ._common import as_value, graph_of

__all__ = ["call", "cond", "while_loop"]


def _results(result: Any, what: str) -> List[Any]:
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]


def _captured(caller: Graph, sub: Graph) -> List[TensorValue]:
    """The caller-side values of ``sub``'s captured inputs."""
    return [as_value(caller, outer) for outer, _ in sub._captures]


def _trace(parent: Graph, base: str, fn: Callable[..., Any], input_types: List[TensorType],
           what: str) -> Graph:
    sub = parent._new_subgraph(parent._unique_subgraph_name(base), input_types,
                               [f"arg{i}" for i in range(len(input_types))])
    with sub:
        outputs = _results(fn(*sub.inputs), what)
        sub.output(*outputs)
    return sub


def _caller(operands: Sequence[Any]) -> Graph:
    values = [v for v in operands if isinstance(v, TensorValue)]
    return graph_of(values) if values else Graph.current


def call(graph: Graph, *args: Value, prefix: str = "") -> List[TensorValue]:
    """Runs subgraph ``graph`` (made with :meth:`Graph.add_subgraph`) on ``args`` and returns its
    outputs.

    Args:
        graph: the subgraph to call; it must be complete (its outputs set).
        args: one value per declared input of ``graph``.
        prefix: MAX prefixes the subgraph's weight names with it; kiln keeps weights in the
            subgraph itself, so only the empty prefix is accepted.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"call: graph must be a Graph, got {type(graph).__name__}")
    if prefix:
        raise NotImplementedError("call: weight name prefixes are not supported (kiln keeps a "
                                  "subgraph's weights in the subgraph)")
    declared = len(graph._inputs)
    if len(args) != declared:
        raise ValueError(f"call: subgraph '{graph.name}' takes {declared} arguments, got "
                         f"{len(args)}")
    caller = _caller(args)
    if not caller._main()._encloses(graph):
        raise ValueError(f"call: subgraph '{graph.name}' belongs to another graph")
    inputs = [as_value(caller, a) for a in args] + _captured(caller, graph)
    graph._attach()
    return _emit.add_op(caller, "call", inputs, {"callee": graph.name})


def cond(pred: Value, out_types: Optional[Iterable[Type]], then_fn: Callable[[], Any],
         else_fn: Callable[[], Any]) -> List[TensorValue]:
    """Runs ``then_fn``'s ops when the bool scalar ``pred`` is true, else ``else_fn``'s, and
    returns that branch's results.

    Args:
        pred: a ``DType.bool`` scalar.
        out_types: the types both branches return. kiln has no buffers yet, so branches must
            return values: None (no results) is not supported.
        then_fn, else_fn: callables with no arguments, each returning values of ``out_types``.

    Raises:
        ValueError: a branch returns a different number of values or types than ``out_types``,
            or ``pred`` is not a bool scalar.
    """
    if out_types is None:
        raise NotImplementedError("cond: branches without results need buffer ops, which kiln "
                                  "does not have yet; give out_types")
    types = list(out_types)
    if not types or not all(isinstance(t, TensorType) for t in types):
        raise ValueError("cond: out_types must be a non-empty list of TensorTypes")
    caller = _caller([pred])
    pred_value = as_value(caller, pred)
    if pred_value.dtype != DType.bool or pred_value.rank != 0:
        raise ValueError(f"cond: pred must be a bool scalar, got {pred_value.type}")
    branches = []
    for label, fn in (("then", then_fn), ("else", else_fn)):
        sub = _trace(caller, f"{caller.name}_cond_{label}", lambda fn=fn: fn(), [], label)
        got = [v.type for v in sub.outputs]
        if len(got) != len(types):
            raise ValueError(f"cond: the {label} branch returns {len(got)} values, out_types "
                             f"has {len(types)}")
        for i, (g, t) in enumerate(zip(got, types)):
            if g.dtype != t.dtype or list(g.shape) != list(t.shape):
                raise ValueError(f"cond: the {label} branch returns {g} as result {i}, "
                                 f"out_types says {t}")
        sub._attach()
        branches.append(sub)
    then_g, else_g = branches
    inputs = [pred_value] + _captured(caller, then_g) + _captured(caller, else_g)
    return _emit.add_op(caller, "cond", inputs,
                        {"then_branch": then_g.name, "else_branch": else_g.name}, types)


def while_loop(initial_values: Any, predicate: Callable[..., Any],
               body: Callable[..., Any]) -> List[TensorValue]:
    """Repeats ``body`` on the loop values while ``predicate`` of them is true.

    Args:
        initial_values: a value or an iterable of values (at least one).
        predicate: takes the loop values, returns a ``DType.bool`` scalar.
        body: takes the loop values, returns new ones of the same types.

    Returns:
        The loop values after the last iteration.

    Raises:
        ValueError: ``initial_values`` is empty, or ``body`` returns other types.
    """
    init = list(initial_values) if isinstance(initial_values, (list, tuple)) else (
        [initial_values] if initial_values is not None else [])
    if not init:
        raise ValueError("while_loop: initial_values must not be empty")
    caller = _caller(init)
    values = [as_value(caller, v) for v in init]
    types = [v.type for v in values]
    pred_g = _trace(caller, f"{caller.name}_while_pred", predicate, types, "predicate")
    if len(pred_g.outputs) != 1:
        raise ValueError(f"while_loop: the predicate returns {len(pred_g.outputs)} values, "
                         f"expected one bool scalar")
    result = pred_g.outputs[0]
    if result.dtype != DType.bool or result.rank != 0:
        raise ValueError(f"while_loop: the predicate must return a bool scalar, got "
                         f"{result.type}")
    body_g = _trace(caller, f"{caller.name}_while_body", body, types, "body")
    got = [v.type for v in body_g.outputs]
    if len(got) != len(types):
        raise ValueError(f"while_loop: the body returns {len(got)} values for {len(types)} "
                         f"loop values")
    for i, (g, t) in enumerate(zip(got, types)):
        if g.dtype != t.dtype or list(g.shape) != list(t.shape):
            raise ValueError(f"while_loop: the body returns {g} for loop value {i} of type {t}")
    pred_g._attach()
    body_g._attach()
    inputs = values + _captured(caller, pred_g) + _captured(caller, body_g)
    return _emit.add_op(caller, "while_loop", inputs,
                        {"predicate": pred_g.name, "body": body_g.name})
