"""Connectionist temporal classification: ``ctc_loss`` (differentiable) and ``ctc_decode``."""
from __future__ import annotations

import math

import numpy as np

from engine import Tensor
from engine import ops as E

from ._base import array, float_tensor, shape_of, spec, xp_of
from ._symbolic import keras_op


@keras_op(spec=lambda target, output, *args, **kwargs: spec(shape_of(output)[:1], output.dtype))
def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Negative log-likelihood of each label sequence under CTC (one value per batch entry).

    Args:
        target: `(batch, max_label_length)` integer labels.
        output: `(batch, max_length, num_classes)` logits.
        target_length, output_length: `(batch,)` valid lengths.
        mask_index: the blank class.
    """
    output = float_tensor(output)
    xp = xp_of(output)
    ints = [xp.asarray(array(a)).astype(np.int32) for a in (target, target_length, output_length)]
    return E.ctc_loss(ints[0], output, ints[1], ints[2], mask_index=mask_index)


def _decode_spec(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
                 **kwargs):
    batch, steps = shape_of(inputs)[:2]
    paths = 1 if strategy == "greedy" else top_paths
    return spec((paths, batch, steps), "int32"), spec((batch, paths), inputs.dtype)


def _greedy(x, lengths, merge_repeated, mask_index):
    batch, steps, _ = x.shape
    idx = x.argmax(-1).astype(np.int32)
    scores = x.max(-1)
    beyond = np.arange(steps)[None, :] >= lengths[:, None]
    idx[beyond] = mask_index
    scores = np.where(beyond, 0.0, scores)
    if merge_repeated:
        idx[:, 1:][idx[:, 1:] == idx[:, :-1]] = mask_index
    out = np.full((batch, steps), -1, dtype=np.int32)
    for b in range(batch):  # the kept labels first, -1 after them
        kept = idx[b][idx[b] != mask_index]
        out[b, :len(kept)] = kept
    return out[None], -scores.sum(1, keepdims=True).astype(x.dtype)


def _lse(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def _beam_one(logp, length, beam_width, top_paths, blank):
    """CTC prefix beam search over one sequence: [(prefix, log-probability)], best first."""
    beams = {(): (0.0, -math.inf)}  # prefix -> (log p ending in blank, log p ending in a label)
    for t in range(length):
        nxt = {}
        for prefix, (pb, pnb) in beams.items():
            total = _lse(pb, pnb)
            for c in range(logp.shape[1]):
                p = float(logp[t, c])
                if c == blank:
                    b, nb = nxt.get(prefix, (-math.inf, -math.inf))
                    nxt[prefix] = (_lse(b, total + p), nb)
                    continue
                ext = prefix + (c,)
                b, nb = nxt.get(ext, (-math.inf, -math.inf))
                # a repeated label only extends the prefix after a blank
                nxt[ext] = (b, _lse(nb, (pb if prefix and prefix[-1] == c else total) + p))
                if prefix and prefix[-1] == c:
                    b, nb = nxt.get(prefix, (-math.inf, -math.inf))
                    nxt[prefix] = (b, _lse(nb, pnb + p))
        ranked = sorted(nxt.items(), key=lambda kv: -_lse(*kv[1]))
        beams = dict(ranked[:beam_width])
    ranked = sorted(beams.items(), key=lambda kv: -_lse(*kv[1]))[:top_paths]
    return [(list(p), _lse(*s)) for p, s in ranked]


@keras_op(spec=_decode_spec)
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decodes CTC outputs: `(decoded, scores)`.

    `decoded` is `(top_paths, batch, max_length)` int32, each path's labels first then -1s.
    Greedy takes the best class per step (scores: minus the sum of the best logits, as Keras);
    "beam_search" runs a prefix beam search on the log-softmax (scores: log-probabilities).
    """
    x = float_tensor(inputs)
    dtype = x.dtype
    x = np.asarray(x.numpy(), dtype=np.float64)
    lengths = np.asarray(array(sequence_lengths)).astype(np.int64).reshape(-1)
    if strategy == "greedy":
        paths, scores = _greedy(x, lengths, merge_repeated, mask_index)
    elif strategy == "beam_search":
        logp = x - x.max(-1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
        batch, steps, _ = x.shape
        paths = np.full((top_paths, batch, steps), -1, dtype=np.int32)
        scores = np.full((batch, top_paths), -np.inf)
        for b in range(batch):
            for k, (path, score) in enumerate(_beam_one(logp[b], lengths[b], beam_width,
                                                        top_paths, mask_index)):
                paths[k, b, :len(path)] = path
                scores[b, k] = score
    else:
        raise ValueError(f"Invalid strategy {strategy}. Supported values are 'greedy' and "
                         f"'beam_search'. Received: strategy={strategy!r}")
    xp = xp_of(inputs)
    return Tensor(xp.asarray(paths)), Tensor(xp.asarray(scores.astype(dtype)))
