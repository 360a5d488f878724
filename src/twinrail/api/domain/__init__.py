"""The api context's pure rules: roles and permissions, errors, cursors, token buckets."""

__all__: list[str] = []
