"""The query worker: plans and runs SQL with DataFusion over buffered rows."""

__all__: list[str] = []
