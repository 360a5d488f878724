"""The tamper-evident audit trail every context writes to, and its verifier."""
