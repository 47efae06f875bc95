"""The bulletin's figures as the pages print them: a bar chart gives its labels the room the
longest needs (a long unit name is not clipped; one too long is cut with an ellipsis, in full
as its tooltip); a change is as precise as its measure (a count changes by ``+2``, not
``+2.0``); the units' range is one dash when no unit has a value."""

from __future__ import annotations

import re

from lims.web.programme_pages import measure_range, signed_measure
from lims.web.svg_charts import MAX_LABEL, Bar, bar_chart
from reports.indicators import indicators
from reports.wording import wording


def _indicator(code: str):  # type: ignore[no-untyped-def]
    return next(i for i in indicators().indicator if i.code == code)


def _label_room(svg: str) -> tuple[int, int]:
    """The x at which the labels end and the chart's width."""
    ends = {int(x) for x in re.findall(r'<text x="(\d+)" y="\d+" text-anchor="end">', svg)}
    assert len(ends) == 1, ends
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    return ends.pop(), width


def test_long_unit_names_get_room_and_too_long_ones_are_cut():
    fmt = "{:.1f}".format
    short = bar_chart([Bar("North", 1.0)], title="t", fmt=fmt, no_data="no data")
    name = "North General Hospital NICU"
    long = bar_chart([Bar(name, 1.0), Bar("South", 2.0)], title="t", fmt=fmt,
                     no_data="no data")
    assert f">{name}</text>" in long
    end_short, width_short = _label_room(short)
    end_long, width_long = _label_room(long)
    assert end_long >= len(name) * 6.6 > end_short  # 11 px text: at least 6.6 px a letter
    assert width_long - end_long == width_short - end_short  # the bars keep their room
    chinese = bar_chart([Bar("北部总医院新生儿重症监护室", 1.0)], title="t", fmt=fmt,
                        no_data="无数据")
    assert _label_room(chinese)[0] >= 13 * 11.5
    huge = "The Very Long Name of a Provincial Maternal and Child Health Care Hospital, NICU"
    cut = bar_chart([Bar(huge, 1.0)], title="t", fmt=fmt, no_data="no data")
    assert f"<title>{huge}</title>" in cut and "…</text>" in cut
    assert _label_room(cut)[0] <= MAX_LABEL


def test_a_change_is_as_precise_as_its_measure_and_an_empty_range_is_one_dash():
    words = wording("en")
    count, rate, hours = (_indicator(c) for c in ("confirmed_cases", "recall_rate",
                                                   "transit_time"))
    assert signed_measure(count, 2.0, words) == "+2"
    assert signed_measure(count, -1.0, words) == "−1"
    assert signed_measure(count, 0.0, words) == "0"
    assert signed_measure(rate, 0.125, words) == "+0.12%"
    assert signed_measure(hours, -3.25, words) == "−3.2"
    assert measure_range(count, None, None, words) == "-"
    assert measure_range(count, 3.0, 3.0, words) == "3"
    assert measure_range(rate, 0.5, 1.25, words) == "0.50% – 1.2%"
