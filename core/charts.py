"""Chart geometry: series in, positions and labels out, for the SVG macros of
`templates/_charts.html`.

Pure functions, independent of Flask and of the database: a view gathers its figures, hands them
here with formatters bound to the viewer's locale (`money_formatter`, `percent_formatter`), and
renders the result. Values are integers (minor units, counts); positions are SVG user units in a
`viewBox` that scales to the width of the page.

Every chart says when it has nothing to draw (`is_empty`): the macros then show an empty state
instead of bars, and no scale ever divides by zero. Geometry is laid out left to right;
`mirrored()` gives the same chart for a right-to-left page (text anchors stay logical: the SVG
carries the matching `direction`).

Colours are the Okabe-Ito palette darkened where needed to reach 3:1 against white (WCAG 1.4.11),
each series also with its own fill pattern and a fixed place in the stack and the legend, so that
no series is told apart by colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import pairwise

from babel.numbers import format_compact_currency, format_percent

from core.money import format_money, to_major

Formatter = Callable[[int], str]

# (colour, pattern) per series, in stacking and legend order.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#5b6575", "#6a3d9a")
PATTERNS = ("solid", "stripes", "dots", "crosshatch", "lines", "zigzag")
NEUTRAL = "#5b6575"  # axes, capacity outlines
TRACK = "#e3e8ef"  # the empty part of a capacity bar (its outline carries the contrast)
INK = "#1d2430"


# ---- numbers ----------------------------------------------------------------------------------


def percent(part: int, whole: int | None) -> int | None:
    """`part` as a whole percentage of `whole`, rounded half up; None when there is no whole."""
    if not whole:
        return None
    return (part * 200 + whole) // (2 * whole)


def nice_step(span: int, intervals: int = 4) -> int:
    """A round step (1, 2, 2.5 or 5 times a power of ten, whole numbers only) cutting `span`
    into about `intervals` parts; 1 for an empty span."""
    if span <= 0:
        return 1
    raw = -(-span // max(intervals, 1))  # ceiling
    magnitude = 10 ** (len(str(raw)) - 1)
    candidates = [magnitude, 2 * magnitude, 5 * magnitude, 10 * magnitude]
    if magnitude >= 10:
        candidates.insert(2, 25 * magnitude // 10)
    return next(step for step in candidates if step >= raw)


def nice_ticks(low: int, high: int, intervals: int = 4) -> list[int]:
    """Round axis ticks from at or below `min(low, 0)` to at or above `max(high, 0)`, zero
    among them; at least two ticks even when everything is zero."""
    low, high = min(low, 0), max(high, 0)
    step = nice_step(high - low, intervals)
    first = (low // step) * step
    last = -((-high) // step) * step
    if last == first:
        last = first + step
    return list(range(first, last + step, step))


@dataclass(frozen=True)
class LinearScale:
    """Maps values of [`low`, `high`] onto positions from `start` to `end` (either way round)."""

    low: int
    high: int
    start: float
    end: float

    def __call__(self, value: int) -> float:
        span = self.high - self.low
        if span == 0:
            return self.start
        return self.start + (value - self.low) / span * (self.end - self.start)


def _r(value: float) -> float:
    return round(value, 1)


# ---- formatters bound to a locale --------------------------------------------------------------


def money_formatter(currency: str, locale: str, compact: bool = False) -> Formatter:
    """Minor units → "€1,500.00" in `locale` (compact: "€1.5K", for axis ticks)."""
    def label(minor: int) -> str:
        if compact:
            return format_compact_currency(to_major(minor, currency), currency, locale=locale,
                                           fraction_digits=2)
        return format_money(minor, currency, locale)
    return label


def percent_formatter(locale: str) -> Callable[[int | None], str]:
    """Whole percent → "44%" in `locale` ("44 %" in French); "—" for None."""
    def label(value: int | None) -> str:
        if value is None:
            return "—"
        return format_percent(Decimal(value) / 100, locale=locale)
    return label


# ---- series -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    index: int
    colour: str
    pattern: str

    def fill(self, chart_id: str) -> str:
        """The SVG fill: the colour, or the pattern `templates/_charts.html` defines for it."""
        return self.colour if self.pattern == "solid" else f"url(#{chart_id}-p{self.index})"


def make_series(items: Sequence[tuple[str, str]]) -> list[Series]:
    """(key, label) pairs → series with their colour and pattern, in the given order."""
    return [Series(key, label, i, PALETTE[i % len(PALETTE)], PATTERNS[i % len(PATTERNS)])
            for i, (key, label) in enumerate(items)]


@dataclass(frozen=True)
class Category:
    """One bar: `label` under it (short), `sublabel` on a second line (e.g. the year of a
    January), `title` in tooltips and the data table (long)."""

    key: str
    label: str
    title: str
    sublabel: str = ""


@dataclass(frozen=True)
class Tick:
    value: int
    position: float
    label: str


# ---- stacked bars (month by stream) ----------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    series: Series
    value: int
    label: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Cell:
    series: Series
    value: int
    label: str


@dataclass(frozen=True)
class StackedBar:
    category: Category
    total: int
    total_label: str
    segments: tuple[Segment, ...]
    cells: tuple[Cell, ...]  # every series, zero included, for the data table
    x: float
    width: float
    label_x: float
    net_y: float | None  # where the net total lies, when negative parts pull it down


@dataclass(frozen=True)
class StackedChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    zero_y: float
    label_y: float
    tick_x: float
    series: tuple[Series, ...]
    bars: tuple[StackedBar, ...]
    ticks: tuple[Tick, ...]
    series_totals: tuple[Cell, ...]  # each series over every category
    total: int
    total_label: str
    is_empty: bool
    rtl: bool = False

    def mirrored(self) -> StackedChart:
        """The same chart laid out right to left (the first category on the right)."""
        w = self.width
        bars = tuple(replace(
            bar, x=_r(w - bar.x - bar.width), label_x=_r(w - bar.label_x),
            segments=tuple(replace(s, x=_r(w - s.x - s.width)) for s in bar.segments))
            for bar in self.bars)
        return replace(self, bars=bars, left=_r(w - self.right), right=_r(w - self.left),
                       tick_x=_r(w - self.tick_x), rtl=not self.rtl)


def stacked_bars(categories: Sequence[Category], series: Sequence[Series],
                 values: Mapping[tuple[str, str], int], format_value: Formatter,
                 format_tick: Formatter | None = None, *, width: int = 720,
                 height: int = 300) -> StackedChart:
    """One bar per category, its series stacked in order: positive values upwards from zero,
    negative ones (refunds, reversals) downwards, with a mark at the net total when both meet.

    `values` maps (category key, series key) to an integer; a missing pair is zero.
    """
    left, right, top, bottom = 84.0, width - 8.0, 12.0, height - 46.0
    stacks = []
    highest = lowest = 0
    for category in categories:
        up = down = 0
        for item in series:
            value = values.get((category.key, item.key), 0)
            if value > 0:
                up += value
            else:
                down += value
        stacks.append((up, down))
        highest, lowest = max(highest, up), min(lowest, down)
    ticks = nice_ticks(lowest, highest)
    scale = LinearScale(ticks[0], ticks[-1], bottom, top)
    tick_label = format_tick or format_value
    slot = (right - left) / max(len(categories), 1)
    bar_width = slot * 0.62
    bars = []
    grand_total = 0
    for index, category in enumerate(categories):
        x = left + index * slot + (slot - bar_width) / 2
        up = down = 0
        segments, cells = [], []
        for item in series:
            value = values.get((category.key, item.key), 0)
            cells.append(Cell(item, value, format_value(value)))
            if value == 0:
                continue
            if value > 0:
                y_top, y_bottom = scale(up + value), scale(up)
                up += value
            else:
                y_top, y_bottom = scale(down), scale(down + value)
                down += value
            # Rounded ends, so that stacked segments meet exactly.
            segments.append(Segment(item, value, format_value(value), _r(x), _r(y_top),
                                    _r(bar_width), _r(_r(y_bottom) - _r(y_top))))
        total = up + down
        grand_total += total
        bars.append(StackedBar(category, total, format_value(total), tuple(segments),
                               tuple(cells), _r(x), _r(bar_width), _r(x + bar_width / 2),
                               _r(scale(total)) if down < 0 and up > 0 else None))
    is_empty = not any(values.get((c.key, s.key), 0) for c in categories for s in series)
    sums = [sum(values.get((c.key, item.key), 0) for c in categories) for item in series]
    return StackedChart(
        width=width, height=height, left=left, right=right, top=top, bottom=bottom,
        zero_y=_r(scale(0)), label_y=bottom + 18, tick_x=left - 6, series=tuple(series),
        bars=tuple(bars), ticks=tuple(Tick(t, _r(scale(t)), tick_label(t)) for t in ticks),
        series_totals=tuple(Cell(item, value, format_value(value))
                            for item, value in zip(series, sums, strict=True)),
        total=grand_total, total_label=format_value(grand_total), is_empty=is_empty)


# ---- horizontal bars (a figure per campus) -----------------------------------------------------


@dataclass(frozen=True)
class HBar:
    key: str
    label: str
    value: int
    value_label: str
    note: str
    x: float
    y: float
    width: float
    height: float
    text_x: float  # where the value's label starts, past the end of the bar
    text_y: float


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    label_x: float
    zero_x: float
    bars: tuple[HBar, ...]
    is_empty: bool
    rtl: bool = False

    def mirrored(self) -> HBarChart:
        w = self.width
        bars = tuple(replace(b, x=_r(w - b.x - b.width), text_x=_r(w - b.text_x))
                     for b in self.bars)
        return replace(self, bars=bars, label_x=_r(w - self.label_x),
                       zero_x=_r(w - self.zero_x), rtl=not self.rtl)


def horizontal_bars(items: Sequence[tuple[str, str, int]], format_value: Formatter,
                    notes: Mapping[str, str] | None = None, *, width: int = 720,
                    row: int = 30, label_width: int = 180, value_width: int = 150) -> HBarChart:
    """One bar per (key, label, value), longest = the largest magnitude; negative values extend
    the other way from a shared zero line. `notes` adds text after a value (e.g. a share)."""
    notes = notes or {}
    values = [value for _key, _label, value in items]
    low, high = min([0, *values]), max([0, *values])
    start, end = float(label_width), float(width - value_width)
    scale = LinearScale(low, high if high > low else low + 1, start, end)
    zero = scale(0)
    bars = []
    for index, (key, label, value) in enumerate(items):
        y = index * row + 4
        position = scale(value)
        x, bar_end = min(zero, position), max(zero, position)
        bars.append(HBar(key, label, value, format_value(value), notes.get(key, ""), _r(x),
                         _r(y), _r(bar_end - x), row - 10, _r(bar_end + 6), _r(y + row / 2)))
    return HBarChart(width=width, height=max(len(items), 1) * row + 4,
                     label_x=float(label_width - 8), zero_x=_r(zero), bars=tuple(bars),
                     is_empty=not any(values))


# ---- fill rates (seats taken of capacity) ------------------------------------------------------


@dataclass(frozen=True)
class FillBar:
    key: str
    label: str
    sublabel: str
    taken: int
    capacity: int
    rate: int | None  # whole percent, None without capacity
    full: bool
    y: float
    track_x: float
    track_width: float
    fill_x: float
    fill_width: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class FillChart:
    width: int
    height: int
    label_x: float
    bars: tuple[FillBar, ...]
    is_empty: bool
    rtl: bool = False

    def mirrored(self) -> FillChart:
        w = self.width
        bars = tuple(replace(b, track_x=_r(w - b.track_x - b.track_width),
                             fill_x=_r(w - b.fill_x - b.fill_width), text_x=_r(w - b.text_x))
                     for b in self.bars)
        return replace(self, bars=bars, label_x=_r(w - self.label_x), rtl=not self.rtl)


def fill_bars(items: Sequence[tuple[str, str, str, int, int]], *, width: int = 720,
              row: int = 40, label_width: int = 250, value_width: int = 130) -> FillChart:
    """(key, label, sublabel, taken, capacity) → a capacity track per item, as long as its
    capacity against the largest one, filled up to the places taken (never past the track)."""
    largest = max([0, *(capacity for *_rest, capacity in items)])
    start, end = float(label_width), float(width - value_width)
    per_seat = (end - start) / largest if largest else 0.0
    bars = []
    for index, (key, label, sublabel, taken, capacity) in enumerate(items):
        capacity = max(capacity, 0)
        y = index * row + 6
        track = capacity * per_seat
        filled = min(max(taken, 0), capacity) * per_seat
        bars.append(FillBar(key, label, sublabel, taken, capacity, percent(taken, capacity),
                            capacity > 0 and taken >= capacity, _r(y), start, _r(track),
                            start, _r(filled), _r(start + track + 6), _r(y + 14)))
    return FillChart(width=width, height=max(len(items), 1) * row + 6,
                     label_x=float(label_width - 8), bars=tuple(bars),
                     is_empty=not items or largest == 0)


# ---- the funnel --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    value: int
    conversion: int | None  # whole percent of `base`
    base: str | None  # the step `conversion` is a percentage of
    of_first: int | None  # whole percent of the first step
    x: float
    y: float
    width: float
    height: float
    text_y: float


@dataclass(frozen=True)
class FunnelLink:
    """The band joining a step to the next one, narrowing as the funnel does."""

    points: str


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    label_x: float
    value_x: float
    steps: tuple[FunnelStep, ...]
    links: tuple[FunnelLink, ...]
    is_empty: bool
    rtl: bool = False

    def mirrored(self) -> FunnelChart:
        w = self.width
        steps = tuple(replace(s, x=_r(w - s.x - s.width)) for s in self.steps)
        links = tuple(FunnelLink(_mirror_points(link.points, w)) for link in self.links)
        return replace(self, steps=steps, links=links, label_x=_r(w - self.label_x),
                       value_x=_r(w - self.value_x), rtl=not self.rtl)


def _mirror_points(points: str, width: int) -> str:
    pairs = (pair.split(",") for pair in points.split())
    return " ".join(f"{_r(width - float(x))},{y}" for x, y in pairs)


def funnel(steps: Sequence[tuple[str, str, int]],
           conversions: Mapping[str, int | None] | None = None,
           bases: Mapping[str, str] | None = None, *, width: int = 720, row: int = 46,
           label_width: int = 170, value_width: int = 150) -> FunnelChart:
    """Centred bars, one per (key, label, value) step, as wide as the step against the widest,
    joined by bands; each step's conversion is a percentage of its base (the step before,
    unless `bases` names another) or taken from `conversions` when the caller computes them."""
    bases = bases or {}
    widest = max([0, *(value for _key, _label, value in steps)])
    start, end = float(label_width), float(width - value_width)
    middle, room = (start + end) / 2, end - start
    values = {key: value for key, _label, value in steps}
    first = steps[0][2] if steps else 0
    placed = []
    for index, (key, label, value) in enumerate(steps):
        base = bases.get(key, steps[index - 1][0] if index else None)
        if conversions is not None and key in conversions:
            conversion = conversions[key]
        else:
            conversion = percent(value, values.get(base)) if base else None
        bar = max(value, 0) / widest * room if widest else 0.0
        y = index * row + 4
        placed.append(FunnelStep(key, label, value, conversion, base if index else None,
                                 percent(value, first), _r(middle - bar / 2), _r(y), _r(bar),
                                 row - 14, _r(y + (row - 14) / 2 + 5)))
    links = []
    for upper, lower in pairwise(placed):
        top, bottom = upper.y + upper.height, lower.y
        links.append(FunnelLink(" ".join(f"{_r(x)},{_r(y)}" for x, y in (
            (upper.x, top), (upper.x + upper.width, top),
            (lower.x + lower.width, bottom), (lower.x, bottom)))))
    return FunnelChart(width=width, height=max(len(steps), 1) * row + 4,
                       label_x=0.0, value_x=float(end + 10), steps=tuple(placed),
                       links=tuple(links), is_empty=widest == 0)
