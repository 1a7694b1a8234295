"""Exact query counts for the hot views, pinned in a baseline file (NetBox's query_counts).

    with assert_query_count("tickets.list"):
        client.get(...)

The count must equal the number stored under that name in ``<app>/tests/query_counts.json``
(the app is the name's first part), so a change in either direction shows up in review: an
N+1 fails the test, and a saved query is recorded on purpose. To record new numbers after a
deliberate change, run the tests with ``KEFU_UPDATE_QUERY_COUNTS=1`` and commit the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext


def _baseline_file(name: str) -> Path:
    app = name.split(".", 1)[0]
    return Path(settings.BASE_DIR) / app / "tests" / "query_counts.json"


def _read(path: Path) -> dict[str, int]:
    return json.loads(path.read_text()) if path.exists() else {}


@contextmanager
def assert_query_count(name: str) -> Iterator[CaptureQueriesContext]:
    path = _baseline_file(name)
    with CaptureQueriesContext(connection) as ctx:
        yield ctx
    count = len(ctx.captured_queries)
    if os.environ.get("KEFU_UPDATE_QUERY_COUNTS") == "1":
        counts = _read(path)
        counts[name] = count
        path.write_text(json.dumps(dict(sorted(counts.items())), indent=2) + "\n")
        return
    expected = _read(path).get(name)
    sqls = "\n".join(q["sql"] for q in ctx.captured_queries)
    assert expected is not None, (
        f"no baseline for {name!r} in {path.relative_to(settings.BASE_DIR)} "
        f"(run with KEFU_UPDATE_QUERY_COUNTS=1): {count} queries\n{sqls}"
    )
    assert count == expected, f"{name}: {count} queries, baseline {expected}\n{sqls}"
