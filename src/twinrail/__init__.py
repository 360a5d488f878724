"""twinrail: one pipeline, one ledger, one compliance engine for banks and blockchains."""

__version__ = "0.1.0"
__all__ = ["__version__"]
