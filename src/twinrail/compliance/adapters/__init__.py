"""List file readers (OFAC SDN, EU FSF, UN SC, FtM) and the synthetic list generator."""

__all__: list[str] = []
