"""A Berlin Group NextGenPSD2 (1.3.11) sandbox bank: mutual TLS, eIDAS checks, AIS."""

__all__: list[str] = []
