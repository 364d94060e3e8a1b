"""The committed references match what the code generates."""

from __future__ import annotations

from edge_cli.docs import DOCS, cli_reference, settings_reference


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text() == cli_reference(), "run: python -m edge_cli.docs"


def test_settings_reference_is_current() -> None:
    text = settings_reference()
    assert (DOCS / "settings.md").read_text() == text, "run: python -m edge_cli.docs"
    assert "`INFLUXDB_IOX_DB_DIR`" in text and "`--http-bind`" in text
