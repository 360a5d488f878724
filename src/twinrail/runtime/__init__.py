"""Process entry points that host several contexts' loops: the worker."""
