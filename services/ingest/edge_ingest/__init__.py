"""The ingest worker: line protocol → Arrow, schema checks, its own write-ahead log."""

__all__: list[str] = []
