"""The ``influxdb3`` command: ``serve`` starts the process group; the other verbs are
HTTP clients of a running server."""

__all__: list[str] = []
