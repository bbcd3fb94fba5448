"""A plain-text table renderer that draws what ``rich`` draws for Keras's summary.

Reproduces rich's column-width reduction (``ratio_reduce``), its word wrapping inside cells
(``divide_line``; a word too long for its cell is cut with ``...``), header cells aligned to
the bottom, the console's cropping of lines wider than the console and, on a terminal, rich's
ANSI styling. kerasish does not depend on rich; ``summary.py`` builds the table with this.
"""
from __future__ import annotations

import itertools
import math
import os
import re
import unicodedata

# ----------------------------------------------------------------------------------------------
# Styled text: a string plus, per character, the span (a styled piece) it belongs to or None.
# A style is a tuple (bold, color) where color is an xterm-256 colour number or None.
# ----------------------------------------------------------------------------------------------
_BOLD = (True, None)
_SYMBOL = (False, 33)   # class names
_NONE = (False, 45)     # None inside shapes
_NUMBER = (False, 34)   # numbers


class _Span:
    """One styled piece of text; characters of one span render as one segment."""

    __slots__ = ("style",)

    def __init__(self, style):
        self.style = style


def _combine(base, style):
    """Rich's ``base + style``: attributes of ``style`` win, bold accumulates."""
    if base is None:
        return style
    if style is None:
        return base
    return (base[0] or style[0], style[1] if style[1] is not None else base[1])


def _char_cells(ch):
    if unicodedata.combining(ch) or (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _cell_len(text):
    if text.isascii():
        return len(text)
    return sum(_char_cells(ch) for ch in text)


def _set_cell_size(text, total):
    """Crops or pads ``text`` to exactly ``total`` cells (a split wide character -> space)."""
    if total <= 0:
        return ""
    out, size = [], 0
    for ch in text:
        cells = _char_cells(ch)
        if size + cells > total:
            if size + cells == total + 1 and cells == 2:
                out.append(" ")
                size += 1
            break
        out.append(ch)
        size += cells
    return "".join(out) + " " * (total - size)


class _Text:
    """A line (or paragraph) of styled text; the subset of ``rich.text.Text`` the table uses."""

    __slots__ = ("plain", "styles")  # styles: per character, its _Span or None

    def __init__(self, plain="", styles=None):
        self.plain = plain
        self.styles = list(styles) if styles is not None else [None] * len(plain)

    @classmethod
    def of(cls, *pieces):
        """``_Text.of("dense (", ("Dense", _SYMBOL), ")")``."""
        plain, styles = [], []
        for piece in pieces:
            text, style = (piece, None) if isinstance(piece, str) else piece
            plain.append(text)
            # each styled piece is its own span (rich never merges neighbouring spans)
            styles.extend([None if style is None else _Span(style)] * len(text))
        return cls("".join(plain), styles)

    def __len__(self):
        return len(self.plain)

    def _set_plain(self, new):
        """Rich's ``plain`` setter: existing styles stay by character index, new ones are plain."""
        styles = self.styles[:len(new)]
        styles.extend([None] * (len(new) - len(styles)))
        self.plain, self.styles = new, styles

    def slice(self, start, end):
        return _Text(self.plain[start:end], self.styles[start:end])

    def divide(self, offsets):
        bounds = [0, *offsets, len(self.plain)]
        return [self.slice(a, b) for a, b in itertools.pairwise(bounds)]

    def rstrip(self):
        self._set_plain(self.plain.rstrip())

    def rstrip_end(self, size):
        """Removes whitespace beyond ``size`` characters at the end."""
        if len(self.plain) > size:
            excess = len(self.plain) - size
            match = re.search(r"\s+$", self.plain)
            if match is not None:
                self._set_plain(self.plain[:len(self.plain) - min(len(match.group(0)), excess)])

    def pad_left(self, count):
        if count > 0:
            self.plain = " " * count + self.plain
            self.styles = [None] * count + self.styles

    def pad_right(self, count):
        if count > 0:
            self.plain += " " * count
            self.styles += [None] * count

    def truncate(self, width, overflow, pad=False):
        length = _cell_len(self.plain)
        if length > width:
            if overflow == "ellipsis":
                self._set_plain(_set_cell_size(self.plain, width - 1) + "…")
            else:
                self._set_plain(_set_cell_size(self.plain, width))
        if pad and length < width:
            self.pad_right(width - length)

    def crop(self, width):
        """Cuts the text to at most ``width`` cells."""
        if _cell_len(self.plain) > width:
            self._set_plain(_set_cell_size(self.plain, width))


def _chop_cells(text, width):
    lines, current, size = [], [], 0
    for ch in text:
        cells = _char_cells(ch)
        if size + cells > width and current:
            lines.append("".join(current))
            current, size = [ch], cells
        else:
            current.append(ch)
            size += cells
    lines.append("".join(current))
    return lines


def _divide_line(text, width, fold=True):
    """Rich's ``divide_line``: where to break ``text`` to fit ``width`` cells (at spaces)."""
    breaks, offset = [], 0
    for match in re.finditer(r"\s*\S+\s*", text):
        start, word = match.start(), match.group(0)
        word_length = _cell_len(word.rstrip())
        if width - offset >= word_length:
            offset += _cell_len(word)
        elif word_length > width:
            if fold:
                chunks = _chop_cells(word, width)
                for i, chunk in enumerate(chunks):
                    if start:
                        breaks.append(start)
                    if i == len(chunks) - 1:
                        offset = _cell_len(chunk)
                    else:
                        start += len(chunk)
            else:
                if start:
                    breaks.append(start)
                offset = _cell_len(word)
        elif offset and start:
            breaks.append(start)
            offset = _cell_len(word)
    return breaks


def _wrap(text, width, justify="default", overflow="fold"):
    """Rich's ``Text.wrap``: a list of lines, each justified to ``width`` unless "default"."""
    lines = []
    position = 0
    for part in text.plain.split("\n"):
        line = text.slice(position, position + len(part))
        position += len(part) + 1
        new_lines = line.divide(_divide_line(line.plain, width, fold=overflow == "fold"))
        for new in new_lines:
            new.rstrip_end(width)
        for new in new_lines:
            if justify == "left":
                new.truncate(width, overflow, pad=True)
            elif justify == "center":
                new.rstrip()
                new.truncate(width, overflow)
                new.pad_left((width - _cell_len(new.plain)) // 2)
                new.pad_right(width - _cell_len(new.plain))
            elif justify == "right":
                new.rstrip()
                new.truncate(width, overflow)
                new.pad_left(width - _cell_len(new.plain))
        for new in new_lines:
            new.truncate(width, overflow)
        lines.extend(new_lines)
    return lines


# ----------------------------------------------------------------------------------------------
# Rich's table layout.
# ----------------------------------------------------------------------------------------------
def _ratio_reduce(total, ratios, maximums, values):
    ratios = [ratio if maximum else 0 for ratio, maximum in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining, result = total, []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            distributed = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _ratio_distribute(total, ratios, minimums=None):
    if minimums:
        ratios = [ratio if minimum else 0 for ratio, minimum in zip(ratios, minimums)]
    total_ratio = sum(ratios)
    remaining = total
    result = []
    minimums = minimums or [0] * len(ratios)
    for ratio, minimum in zip(ratios, minimums):
        if total_ratio > 0:
            distributed = max(minimum, math.ceil(ratio * remaining / total_ratio))
        else:
            distributed = remaining
        result.append(distributed)
        total_ratio -= ratio
        remaining -= distributed
    return result


def _table_widths(column_widths, table_width):
    """Rendered column widths (padding included, borders excluded) of rich's fixed-width table."""
    max_width = table_width - (len(column_widths) + 1)
    if max_width < 1:
        return [0] * len(column_widths)
    widths = [min(w + 2, max_width) for w in column_widths]
    total = sum(widths)
    if total > max_width:
        # No column may wrap (all have a fixed width): the last resort reduces them evenly.
        widths = _ratio_reduce(total - max_width, [1] * len(widths), widths, widths)
        widths = [min(w + 2, width) if width >= 1 else 0
                  for w, width in zip(column_widths, widths)]
        total = sum(widths)
    if total < max_width:
        widths = [w + pad for w, pad in zip(widths, _ratio_distribute(max_width - total, widths))]
    return widths


def _render_cell(text, width, justify):
    """A cell's lines: (left padding, content, right padding), content justified in the cell."""
    inner = max(width - 2, 0)
    if not inner:
        return []  # rich renders no line: the cell is blank
    lines = _wrap(text, inner, justify=justify, overflow="ellipsis")
    out = []
    for line in lines:
        line.crop(inner)
        line.pad_right(inner - _cell_len(line.plain))
        out.append((" " * min(width, 1), line, " " * min(max(width - 1, 0), 1)))
    return out


def _render_table(headers, justifies, rows, column_widths, table_width):
    """The table's lines, each a list of (text, style) segments."""
    widths = _table_widths(column_widths, table_width)
    lines = []

    def rule(left, fill, mid, right):
        lines.append([(left + mid.join(fill * w for w in widths) + right, None)])

    def emit_row(cells, header, bar):
        style = _BOLD if header else None
        rendered = [_render_cell(cell, w, j) for cell, w, j in zip(cells, widths, justifies)]
        height = max(1, *(len(r) for r in rendered))
        for i, r in enumerate(rendered):
            blank = [None] * (height - len(r))
            rendered[i] = blank + r if header else r + blank  # header cells sit at the bottom
        for line_no in range(height):
            segments = [(bar, None)]
            for cell, width in zip(rendered, widths):
                line = cell[line_no]
                if line is None:
                    segments.append((" " * width, style))
                else:
                    left, content, right = line
                    if left:
                        segments.append((left, style))
                    segments.extend(_segments(content, style))
                    if right:
                        segments.append((right, style))
                segments.append((bar, None))
            lines.append(segments)

    rule("┏", "━", "┳", "┓")
    emit_row(headers, True, "┃")
    rule("┡", "━", "╇", "┩")
    for i, row in enumerate(rows):
        if i:
            rule("├", "─", "┼", "┤")
        emit_row(row, False, "│")
    rule("└", "─", "┴", "┘")
    return lines


def _segments(text, base):
    """Groups consecutive characters of equal style into (text, style) segments."""
    out, previous = [], object()
    for ch, span in zip(text.plain, text.styles):
        if out and span is previous:
            out[-1] = (out[-1][0] + ch, out[-1][1])
        else:
            out.append((ch, _combine(base, None if span is None else span.style)))
        previous = span
    return out


# ----------------------------------------------------------------------------------------------
# The console: width, terminal detection, colours, cropping.
# ----------------------------------------------------------------------------------------------
_STANDARD = {33: "94", 45: "96", 34: "32", 9: "91"}


class _Console:
    """What a ``rich.console.Console`` decides from the environment, for summary's needs."""

    def __init__(self, file, force_plain):
        env = os.environ
        self.file = file
        if force_plain:
            self.is_terminal = False
        elif env.get("TTY_COMPATIBLE", "") in ("0", "1"):
            self.is_terminal = env["TTY_COMPATIBLE"] == "1"
        elif env.get("FORCE_COLOR") is not None:
            self.is_terminal = env.get("FORCE_COLOR") != ""
        else:
            try:
                self.is_terminal = bool(file.isatty())
            except (AttributeError, ValueError):
                self.is_terminal = False
        dumb = self.is_terminal and env.get("TERM", "").lower() in ("dumb", "unknown")
        self.width = self._detect_width(env, dumb)
        self.color_system = None
        if self.is_terminal and not dumb and not force_plain:
            if env.get("COLORTERM", "").strip().lower() in ("truecolor", "24bit"):
                self.color_system = "truecolor"
            else:
                colors = env.get("TERM", "").strip().lower().rpartition("-")[2]
                self.color_system = "256" if colors in ("256color", "kitty") else "standard"
        self.no_color = env.get("NO_COLOR", "") != ""

    @staticmethod
    def _detect_width(env, dumb):
        columns = env.get("COLUMNS")
        if columns is not None and columns.isdigit():
            return int(columns)
        if dumb:
            return 80
        width = None
        for fd in (0, 1, 2):
            try:
                width = os.get_terminal_size(fd).columns
            except (AttributeError, ValueError, OSError):
                continue
            break
        return width or 80

    def _ansi(self, style):
        if style is None or self.color_system is None:
            return None
        codes = []
        bold, color = style
        if bold:
            codes.append("1")
        if color is not None and not self.no_color:
            if self.color_system == "standard" or color < 16:
                codes.append(_STANDARD.get(color, str(30 + color % 8)))
            else:
                codes.append(f"38;5;{color}")
        return ";".join(codes) or None

    def render_line(self, segments):
        """One output line: cropped to the console width, with ANSI codes on a terminal."""
        out, used = [], 0
        for text, style in segments:
            if used >= self.width:
                break
            cells = _cell_len(text)
            if used + cells > self.width:
                text = _set_cell_size(text, self.width - used)
                cells = self.width - used
            used += cells
            if not text:
                continue
            code = self._ansi(style)
            out.append(f"\x1b[{code}m{text}\x1b[0m" if code else text)
        return "".join(out)

    def render_text(self, text):
        """Lines of a paragraph printed by ``console.print`` (wrapped at the console width)."""
        return [self.render_line(_segments(line, None))
                for line in _wrap(text, self.width, justify="default", overflow="fold")]
