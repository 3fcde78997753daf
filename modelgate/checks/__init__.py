"""Built-in checks. Each module is a plugin, registered exactly like a third-party one."""

# Each module's MODELGATE_DOCS: one section per check (``#mg102-artifact-hash``), generated
# from the checks themselves and kept in step by the test suite (tests/test_readme.py).
DOCS = "https://github.com/modelgate/modelgate/blob/main/docs/checks.md"
