"""Usage files are read in batches that never split a line, so batches can be written side by side; the
months the database sums them into are checked against the calendar rule."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bascule.usage.files import whole_lines
from bascule.usage.importer import _same_month


def _tables(msisdns: list[str], sizes: list[int]) -> list[pa.Table]:
    """The rows (ordered by MSISDN, as the reader sorts them) cut into tables of the given sizes."""
    rows = pa.table({"msisdn": pa.array(msisdns, pa.string()), "n": pa.array(range(len(msisdns)), pa.int64())})
    tables, start = [], 0
    for size in sizes:
        tables.append(rows.slice(start, size))
        start += size
    tables.append(rows.slice(start))
    return tables


def test_the_rows_of_a_line_cut_by_the_reader_go_together_into_the_next_batch():
    tables = _tables(["+331", "+331", "+332", "+332", "+332", "+333"], [3, 2])
    batches = [batch.records["msisdn"].to_pylist() for batch in whole_lines(iter(tables))]
    assert batches == [["+331", "+331"], ["+332", "+332", "+332"], ["+333"]]


def test_a_line_longer_than_a_batch_waits_for_its_last_row():
    tables = _tables(["+331", "+331", "+331", "+331", "+332"], [2, 2])
    batches = [batch.records["n"].to_pylist() for batch in whole_lines(iter(tables))]
    assert batches == [[0, 1, 2, 3], [4]]


@given(st.lists(st.integers(1, 6), max_size=60), st.lists(st.integers(0, 9), max_size=12))
def test_batches_keep_every_row_in_order_and_each_line_in_one_batch(lines, sizes):
    msisdns = [f"+3360000000{line}" for line in sorted(lines)]
    batches = [batch.records for batch in whole_lines(iter(_tables(msisdns, sizes)))]
    assert [n for batch in batches for n in batch["n"].to_pylist()] == list(range(len(msisdns)))
    owners = [set(batch["msisdn"].to_pylist()) for batch in batches]
    assert all(owner for owner in owners)  # no empty batch
    assert sum(len(owner) for owner in owners) == len(set(msisdns))  # no line in two batches


def test_a_month_summed_by_the_database_is_checked_against_the_calendar_rule_at_both_ends():
    paris = ZoneInfo("Europe/Paris")
    july_first_in_paris = datetime.fromisoformat("2026-06-30T22:10:00+00:00")  # 00:10 on 1 July in Paris
    july_last_in_paris = datetime.fromisoformat("2026-07-31T21:59:59+00:00")  # 23:59:59 on 31 July in Paris
    august_first_in_paris = datetime.fromisoformat("2026-07-31T22:30:00+00:00")  # 00:30 on 1 August in Paris

    _same_month("2026-07", july_first_in_paris, july_last_in_paris, paris)  # agrees: nothing raised
    with pytest.raises(RuntimeError, match="2026-07-31T22:30:00"):
        _same_month("2026-07", july_first_in_paris, august_first_in_paris, paris)
    with pytest.raises(RuntimeError, match="2026-06-30T22:10:00"):
        _same_month("2026-06", july_first_in_paris, july_first_in_paris, paris)  # UTC's month is not the account's
