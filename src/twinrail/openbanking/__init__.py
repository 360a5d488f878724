"""Open banking: the TPP side of PSD2 (this slice: eIDAS test certificates and their checks)."""

__all__: list[str] = []
