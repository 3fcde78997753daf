"""Built-in policy packs, shipped in the wheel as ``modelgate.policies`` (``builtin:NAME``)."""
