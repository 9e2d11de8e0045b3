"""What the e2e demo tests share across modules: the interactive run's KPI table.

``make run``'s entry point takes minutes, so it starts once per session (test_demo_interactive.py)
and leaves its table here; a test that compares with it and runs without that module (``-k``, one
file) starts its own run instead of skipping.
"""

from __future__ import annotations

import pytest

from .live_demo import CLOSING, Demo, free_port, kpi_table


@pytest.fixture(scope="session")
def printed_tables() -> dict[str, str]:
    """The KPI table each demo mode printed in this session ("interactive")."""
    return {}


@pytest.fixture(scope="session")
def interactive_kpi_table(printed_tables, new_database, tmp_path_factory) -> str:
    if "interactive" not in printed_tables:
        demo = Demo(tmp_path_factory.mktemp("demo-home-table"), new_database("si_live_table"), free_port())
        try:
            assert demo.wait_for(CLOSING, 900), demo.out[-4000:]
            printed_tables["interactive"] = kpi_table(demo.out)
        finally:
            demo.stop()
    table = printed_tables["interactive"]
    assert table, "the interactive run printed no KPI table (see test_demo_interactive.py's failures)"
    return table
