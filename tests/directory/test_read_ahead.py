"""importer.read_ahead: items produced a step ahead in a thread, every one of them, whatever they are."""

from __future__ import annotations

import threading

import pytest

from fusioncare.directory.importer import read_ahead


def test_every_item_arrives_in_order_none_included():
    items = [1, None, 2, None, None, 3]  # the CMS clinicians import yields None for a chunk it keeps nothing of

    assert list(read_ahead(iter(items), name="test-reader", file_name="f.csv")) == items


def test_the_producers_error_reaches_the_consumer_after_the_items_before_it():
    def items():
        yield None
        yield 1
        raise ValueError("bad chunk")

    seen = []
    with pytest.raises(ValueError, match="bad chunk"):
        for item in read_ahead(items(), name="test-reader", file_name="f.csv"):
            seen.append(item)
    assert seen == [None, 1]
    assert not [t for t in threading.enumerate() if t.name == "test-reader"]  # joined
