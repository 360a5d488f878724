"""The api context's HTTP routers."""

__all__: list[str] = []
