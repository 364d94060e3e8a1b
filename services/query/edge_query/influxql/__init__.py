"""InfluxQL: the 1.x query language, parsed here and run on DataFusion."""

__all__: list[str] = []
