"""The progress bar of ``fit``/``evaluate``/``predict`` (``keras.utils.Progbar``), byte for byte.

verbose=1 redraws one line: ``\\b`` x previous width + ``\\r`` + the frame, padded with spaces to
the previous width, at most every ``interval`` seconds plus the first and the final frame (which
ends with ``\\n``). verbose=2 writes one plain line when the bar is finalized.
"""
from __future__ import annotations

import logging
import math
import os
import re
import sys
import time

import numpy as np

from . import config

_BOLD, _GREEN, _WHITE, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def print_msg(message, line_break=True):
    """Writes ``message`` to ``sys.stdout`` and flushes (Keras's ``io_utils.print_msg``); with
    interactive logging disabled, logs it at INFO on the ``"kerasish"`` logger instead."""
    if not config.is_interactive_logging_enabled():
        logging.getLogger("kerasish").info(str(message))
        return
    message = str(message) + ("\n" if line_break else "")
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        # NOTE: an ASCII-only stdout cannot take the bar's "━"; Keras drops such characters.
        sys.stdout.write(message.encode("ascii", errors="ignore").decode("ascii"))
    sys.stdout.flush()


def in_notebook() -> bool:
    """True inside a Jupyter kernel: IPython is already imported and its shell has a kernel."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if get_ipython is None:
        return False
    try:
        shell = get_ipython()
    except Exception:  # a half-initialised IPython must not break training
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _format_value(value, verbose):
    # NOTE: verbose=2 compares the signed value (Keras's quirk: -0.5 prints as -5.0000e-01).
    big = abs(value) > 1e-3 if verbose == 1 else value > 1e-3
    return f"{value:.4f}" if big else f"{value:.4e}"


def _format_eta(eta):
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


def _format_time(time_per_unit, unit_name):
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1e6:.0f}us/{unit_name}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps expected, None if unknown.
        width: Progress bar width on screen.
        verbose: Verbosity mode, 0 (silent), 1 (verbose), 2 (semi-verbose).
        interval: Minimum visual progress update interval (in seconds).
        stateful_metrics: Names of metrics shown as given; all others are averaged over the
            steps by the bar (unless ``stateless_metrics`` is given).
        unit_name: Display name for step counts (usually "step" or "sample").
        stateless_metrics: Names of the only metrics the bar averages; all others are shown as
            given. Give at most one of ``stateful_metrics`` and ``stateless_metrics``.

    >>> bar = Progbar(3)
    >>> for step in range(1, 4):
    ...     bar.update(step, [("loss", 0.5)])
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", stateless_metrics=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` and `stateless_metrics` can be provided. "
                f"Received: stateful_metrics={stateful_metrics}, "
                f"stateless_metrics={stateless_metrics}")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = None if stateless_metrics is not None else set(
            stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        # NOTE: in a notebook the frontend handles "\r" but not always "\b": there each frame
        # is "\r" + text, so the output stays one line rewritten in place.
        self._notebook = in_notebook()
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or self._notebook
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values = {}  # name -> [sum, count]
        self._values_order = []
        self._start = time.time()
        self._last_update = None
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        """Updates the bar to step ``current``.

        Args:
            current: Index of the current step (1-based count of steps done).
            values: List of ``(name, value)`` tuples.
            finalize: Whether this is the last update; defaults to ``current >= target``.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._accumulate(current, values or [], finalize)
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if (not finalize and self._last_update is not None
                    and now - self._last_update < self.interval):
                return
            self._write_frame(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target:
            self._write_line(current, now, time_per_unit)
        self._last_update = now

    def add(self, n, values=None):
        """Advances the bar by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def _is_stateless(self, name):
        if self.stateless_metrics is not None:
            return name in self.stateless_metrics
        return name not in self.stateful_metrics

    def _accumulate(self, current, values, finalize):
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if not self._is_stateless(name) or finalize:
                # NOTE: Keras shows a stateless value as given at finalize too, so an unknown
                # target (update + finalize at the same step) does not count it twice.
                self._values[name] = [value, 1]
                continue
            weight = max(current - self._seen_so_far, 1)
            total = self._values.setdefault(name, [0.0, 0])
            total[0] += value * weight
            total[1] += weight

    def _metrics_text(self, verbose):
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            if not isinstance(total, float):
                total = np.mean(total)  # e.g. a NumPy scalar or a small array of values
            text += f" - {name}: {_format_value(float(total) / max(1, count), verbose)}"
        return text

    def _write_frame(self, current, now, time_per_unit, finalize):
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            bar = f"{_BOLD}{'%*d/%d' % (digits, current, self.target)}{_RESET} "
            done = int(self.width * float(current) / self.target)
            if done > 0:
                bar += f"{_GREEN}{'━' * done}{_RESET}"
            bar += f"{_WHITE}{'━' * (self.width - done)}{_RESET}"
        else:
            bar = "%7d/Unknown" % current
        if self.target is not None and self.target > 0 and not finalize:
            clock = _format_eta(time_per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        content = (bar + f" {_BOLD}{clock}{_RESET}" + _format_time(time_per_unit, self.unit_name)
                   + self._metrics_text(1))

        if not self._dynamic_display:
            prefix = "\n"
        elif self._notebook:
            prefix = "\r"
        else:
            prefix = "\b" * self._prev_total_width + "\r"
        width = len(_ANSI.sub("", content))
        padding = " " * max(self._prev_total_width - width, 0)
        print_msg(prefix + content + padding + ("\n" if finalize else ""), line_break=False)
        self._prev_total_width = width

    def _write_line(self, current, now, time_per_unit):
        digits = int(math.log10(self.target)) + 1
        line = ("%*d/%d" % (digits, current, self.target) + f" - {now - self._start:.0f}s -"
                + _format_time(time_per_unit, self.unit_name) + self._metrics_text(2))
        print_msg(line + "\n", line_break=False)

    def _estimate_step_duration(self, current, now):
        """Seconds per step; once past step 1 the (slow, warm-up) first step is left out."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
