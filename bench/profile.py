"""Per-op profile of kerasish steps: where the time of a step goes, by engine op class.

``OpProfiler`` monkeypatches, inside the bench process only and only while it is active:

* ``engine.autograd.Function.apply`` (the plumbing of every op call),
* each ``Function`` subclass's ``forward`` (or in-place ``forward_``) and ``backward``,
* ``engine.autograd.backprop`` (the backward walk),
* ``kerasish`` ``Optimizer.apply`` (updates on raw arrays, outside the op graph),

and accumulates exclusive wall time per bucket (time in a nested, also-timed call is charged to
the inner one). Nothing in the engine changes, so an unprofiled step pays nothing. What no
wrapper sees (layers' Python, losses' glue, train_on_batch's data handling) is the "rest" row:
the step's time minus everything charged.

    with OpProfiler() as prof:
        for _ in range(n):
            prof.step(step_fn)
    print(prof.table())
"""
from __future__ import annotations

import collections
import time

_clock = time.perf_counter


class OpProfiler:
    """Times engine op classes (forward, backward), op-call plumbing, backprop and optimizer."""

    def __init__(self, sync=None):
        self.sync = sync  # called before reading the clock (GPU: wait for the device)
        self.time = collections.defaultdict(float)   # (kind, name) -> seconds, exclusive
        self.calls = collections.defaultdict(int)    # (kind, name) -> count
        self.step_times = []
        self._stack = []                             # child-time accumulators of open frames
        self._undo = []                              # (owner, attribute, original) to restore
        self._patched = set()

    # -- the timing core ----------------------------------------------------------------------
    def _timed(self, kind, name, fn, *args, **kwargs):
        if self.sync:
            self.sync()
        self._stack.append(0.0)
        start = _clock()
        try:
            return fn(*args, **kwargs)
        finally:
            if self.sync:
                self.sync()
            elapsed = _clock() - start
            child = self._stack.pop()
            self.time[(kind, name)] += elapsed - child
            self.calls[(kind, name)] += 1
            if self._stack:
                self._stack[-1] += elapsed

    def step(self, fn):
        """Runs one step under the profiler and records its wall time."""
        if self.sync:
            self.sync()
        start = _clock()
        out = fn()
        if self.sync:
            self.sync()
        self.step_times.append(_clock() - start)
        return out

    # -- patching ------------------------------------------------------------------------------
    def _set(self, owner, attr, value):
        self._undo.append((owner, attr, owner.__dict__[attr]))
        setattr(owner, attr, value)

    def _patch_class(self, cls):
        """Wraps the forward/backward that ``cls`` itself defines (once)."""
        if cls in self._patched:
            return
        self._patched.add(cls)
        prof = self
        for attr, kind in (("forward", "fwd"), ("forward_", "fwd"), ("backward", "bwd")):
            original = cls.__dict__.get(attr)
            if not callable(original):
                continue

            def wrapper(fn_self, *args, _orig=original, _kind=kind, **kwargs):
                return prof._timed(_kind, type(fn_self).__name__, _orig, fn_self, *args,
                                   **kwargs)
            self._set(cls, attr, wrapper)

    def _wrap_classmethod(self, cls, attr, kind, label):
        original = cls.__dict__.get(attr)
        if not isinstance(original, classmethod):
            return False
        func, prof = original.__func__, self

        def wrapper(klass, *args, **kwargs):
            if klass not in prof._patched:  # an op class defined after we started (lazy)
                prof._patch_class(klass)
            return prof._timed(kind, label, func, klass, *args, **kwargs)
        self._set(cls, attr, classmethod(wrapper))
        return True

    def _wrap_function(self, module, attr, kind, label):
        original = getattr(module, attr, None)
        if original is None:
            return

        def wrapper(*args, **kwargs):
            return self._timed(kind, label, original, *args, **kwargs)
        self._set(module, attr, wrapper)

    def __enter__(self):
        from engine import autograd

        stack = [autograd.Function]
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            self._patch_class(cls)
            if cls is not autograd.Function:  # a subclass with its own apply: time it too
                self._wrap_classmethod(cls, "apply", "glue", "Function.apply plumbing")
        if not self._wrap_classmethod(autograd.Function, "apply", "glue",
                                      "Function.apply plumbing"):
            raise RuntimeError("engine.autograd.Function.apply is no longer a classmethod: "
                               "update bench/profile.py")
        self._wrap_function(autograd, "backprop", "glue", "backprop walk (autograd)")
        try:
            from kerasish.optimizers import base_optimizer
        except ImportError:
            base_optimizer = None
        if base_optimizer is not None and "apply" in base_optimizer.Optimizer.__dict__:
            owner = base_optimizer.Optimizer
            original = owner.__dict__["apply"]

            def opt_apply(opt_self, *args, **kwargs):
                return self._timed("glue", "optimizer.apply (raw xp)", original, opt_self,
                                   *args, **kwargs)
            self._set(owner, "apply", opt_apply)
        return self

    def __exit__(self, *exc):
        while self._undo:
            owner, attr, original = self._undo.pop()
            setattr(owner, attr, original)
        return False

    # -- report --------------------------------------------------------------------------------
    def rows(self):
        """[(name, calls/step, fwd ms, bwd ms, total ms)], per step, sorted by total."""
        n = max(len(self.step_times), 1)
        ops = collections.defaultdict(lambda: [0, 0.0, 0.0])
        for (kind, name), seconds in self.time.items():
            row = ops[name if kind != "glue" else f"[{name}]"]
            if kind == "bwd":
                row[2] += seconds
            else:
                row[1] += seconds
                row[0] += self.calls[(kind, name)]
        out = [(name, calls / n, 1e3 * f / n, 1e3 * b / n, 1e3 * (f + b) / n)
               for name, (calls, f, b) in ops.items()]
        charged = sum(self.time.values())
        rest = max(sum(self.step_times) - charged, 0.0)
        out.append(("[rest: layers, losses, train_on_batch glue]", 0, 1e3 * rest / n, 0.0,
                    1e3 * rest / n))
        return sorted(out, key=lambda r: -r[4])

    def table(self, top=None):
        n = max(len(self.step_times), 1)
        step_ms = 1e3 * sum(self.step_times) / n
        lines = [f"{'op (exclusive time)':<46}{'calls':>7}{'fwd ms':>9}{'bwd ms':>9}"
                 f"{'total':>9}{'%step':>7}"]
        lines.append("-" * len(lines[0]))
        rows = self.rows()
        for name, calls, f, b, total in rows[:top] if top else rows:
            calls_txt = f"{calls:.0f}" if calls else ""
            lines.append(f"{name[:45]:<46}{calls_txt:>7}{f:>9.2f}{b:>9.2f}{total:>9.2f}"
                         f"{100 * total / step_ms if step_ms else 0:>7.1f}")
        lines.append(f"{'step (mean of ' + str(n) + ', profiled)':<46}{'':>7}{'':>9}{'':>9}"
                     f"{step_ms:>9.2f}{100.0:>7.1f}")
        return "\n".join(lines)
