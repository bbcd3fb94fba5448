"""Fusion passes over a compiled plan (``engine/_plan.py``): a conv and the steps that only
read its output become one step whose kernel writes them all (``engine/ops/fused.py``).

- ``fuse``: conv -> bias add [-> ReLU], for training and inference; the fused step has the
  same bits as the steps it replaces, so the plan's bitwise check against the eager step
  still decides (``engine.jit`` keeps the unfused plan when it fails).
- ``fold``: conv [-> bias add] -> inference batch norm [-> ReLU], for plans without
  gradients (``predict``); equal to float32 rounding, so ``engine.jit`` keeps it only after
  comparing its outputs with those of the checked plan.
"""
from __future__ import annotations

import copy

import numpy as np

from ._plan import _CONST, _SLOT, _TENSOR
from .ops.activation import Relu
from .ops.conv import Conv, DepthwiseConv
from .ops.elementwise import Add
from .ops.fused import ConvAffine, ConvBias
from .ops.normalization import BatchNormalization

_CONVS = (Conv, DepthwiseConv)


class _Chains:
    """Finds chains of steps whose intermediate results nothing else reads. The steps of a
    chain need not be adjacent (a functional model runs its branches' convs, then their batch
    norms, ...): the fused step runs where the conv ran."""

    def __init__(self, plan):
        self.plan, self.steps = plan, plan.steps
        self.uses, self.reader = {}, {}
        for k, step in enumerate(self.steps):
            for kind, p in step[1]:
                if kind == _SLOT:
                    self.uses[p] = self.uses.get(p, 0) + 1
                    self.reader[p] = k
        for _, _, s in plan.assigns:
            self.uses[s] = self.uses.get(s, 0) + 1
        self.outputs = {r[1] for r in plan.outputs if r is not None and r[0] == _SLOT}
        self.assigned = [(k, t) for k, t, _ in plan.assigns]

    def next_reads(self, k, cls):
        """The step that reads step k's result when it is the only reader, a ``cls`` taking
        it as input 0, and its other inputs are weights or constants; else None."""
        slot = self.steps[k][5]
        nxt = self.reader.get(slot)
        if nxt is None or self.uses.get(slot) != 1 or slot in self.outputs:
            return None
        cls_, refs, _, _, _, _, outs = self.steps[nxt]
        if cls_ is not cls or refs[0] != (_SLOT, slot) or outs or \
                any(kind == _SLOT for kind, _ in refs[1:]):
            return None
        # NOTE: a weight it reads must not be overwritten between the conv and it
        weights = [p for kind, p in refs[1:] if kind == _TENSOR]
        if any(k < at <= nxt and any(t is w for w in weights) for at, t in self.assigned):
            return None
        return nxt

    def conv(self, k):
        """The conv step at k, as (refs, params), if it is one a fused kernel can take."""
        cls, refs, params, _, xp, _, outs = self.steps[k]
        if cls not in _CONVS or xp is not np or outs or refs[1][0] != _TENSOR:
            return None
        return refs, params

    def bias(self, k):
        """The step adding a per-channel weight to step k's result: (its index, the weight's
        ref), or None."""
        add = self.next_reads(k, Add)
        if add is None:
            return None
        ref = self.steps[add][1][1]
        return (add, ref) if ref[0] == _TENSOR and ref[1].data.ndim == 1 else None


def _exact_chains(plan):
    chains = _Chains(plan)
    for k in range(len(plan.steps)):
        conv, bias = chains.conv(k), chains.bias(k)
        if conv is None or bias is None:
            continue
        add, bias_ref = bias
        relu = chains.next_reads(add, Relu)
        steps = [k, add] + ([relu] if relu is not None else [])
        refs, params = conv
        conv_step, add_step = plan.steps[k], plan.steps[add]
        needs = (conv_step[3][0], conv_step[3][1], add_step[3][1])
        fused = (ConvBias, (refs[0], refs[1], bias_ref),
                 {"conv_cls": conv_step[0], "relu": relu is not None, **params}, needs, np,
                 plan.steps[steps[-1]][5], ())
        # NOTE: backward inputs: the conv's (0: x, 1: w) and the add's weight (1 -> 2)
        yield steps, fused, {k: {0: 0, 1: 1}, add: {1: 2}}


def _fold_chains(plan):
    chains = _Chains(plan)
    for k in range(len(plan.steps)):
        conv = chains.conv(k)
        if conv is None:
            continue
        refs, params = conv
        bias = chains.bias(k)
        bn = chains.next_reads(k if bias is None else bias[0], BatchNormalization)
        if bn is None:
            continue
        bn_refs, bn_params = plan.steps[bn][1], plan.steps[bn][2]
        if bn_params["axis"] not in (-1, refs[1][1].data.ndim - 1):
            continue
        relu = chains.next_reads(bn, Relu)
        steps = [k] + ([] if bias is None else [bias[0]]) + [bn] + ([] if relu is None else [relu])
        fused = (ConvAffine, (refs[0], refs[1], (_CONST, None) if bias is None else bias[1])
                 + tuple(bn_refs[1:5]),
                 {"conv_cls": plan.steps[k][0], "relu": relu is not None,
                  "epsilon": bn_params["epsilon"], **params}, (False,) * 7, np,
                 plan.steps[steps[-1]][5], ())
        yield steps, fused, {}


def _rewrite(plan, chains):
    """A copy of ``plan`` with each chain of steps replaced by its fused step."""
    fused_at, removed, backward = {}, set(), {}
    for steps, step, inputs in chains:
        if any(k in fused_at or k in removed for k in steps):
            continue
        fused_at[steps[0]] = step
        removed.update(steps[1:])
        for k in steps:
            backward[k] = (steps[0], inputs.get(k, {}))
    if not fused_at:
        return plan
    new_index, steps = {}, []
    for k, step in enumerate(plan.steps):
        new_index[k] = len(steps)  # a removed step maps to the next kept one
        if k not in removed:
            steps.append(fused_at.get(k, step))
    new_index[len(plan.steps)] = len(steps)
    new = copy.copy(plan)
    new.steps, new.unfused = steps, plan
    new.assigns = [(new_index[k], t, s) for k, t, s in plan.assigns]
    new.candidates = [new_index[k] for k in plan.candidates
                      if k not in removed and k not in fused_at]
    new.order = _fused_order(plan.order, fused_at, backward, new_index)
    new.buffers = [None] * len(plan.buffers)
    new._schedule()
    return new


def _fused_order(order, fused_at, backward, new_index):
    """The backward order with each chain's entries made one, where its conv's entry was (so
    every gradient sum still adds in the eager order); its inputs renumbered."""
    last, dests = {}, {}
    for pos, (k, _, dest) in enumerate(order):
        if k in backward:
            first, inputs = backward[k]
            last[first] = pos
            dests.setdefault(first, []).extend((inputs[i], d) for i, d in dest if i in inputs)
    out = []
    for pos, (k, slot, dest) in enumerate(order):
        if k not in backward:
            out.append((new_index[k], slot, dest))
        elif last[backward[k][0]] == pos:
            first = backward[k][0]
            out.append((new_index[first], fused_at[first][5], dests[first]))
    return out


def fuse(plan):
    """``plan`` with conv -> bias [-> ReLU] chains fused (bitwise the same), or ``plan``."""
    return _rewrite(plan, list(_exact_chains(plan)))


def fold(plan):
    """``plan`` (no gradients) with conv -> [bias ->] batch norm [-> ReLU] chains folded into
    the conv's kernel (equal to float32 rounding), or ``plan``."""
    plan = getattr(plan, "unfused", plan)
    if plan.order or plan.assigns or plan.generators:
        return plan
    return _rewrite(plan, list(_fold_chains(plan)) + list(_exact_chains(plan)))
