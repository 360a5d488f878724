"""The pipeline's application layer: create and drive payment orders through rails."""

__all__: list[str] = []
