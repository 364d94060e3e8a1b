"""The persister: owner of the in-memory buffer and of the catalog."""

__all__: list[str] = []
