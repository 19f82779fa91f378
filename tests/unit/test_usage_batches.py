"""Usage files are read in batches that never split a line, so batches can be written side by side."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from bascule.ingest.usage_files import whole_lines


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
