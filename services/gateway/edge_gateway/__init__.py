"""The gateway: the HTTP surface, request routing and response formats."""

__all__: list[str] = []
