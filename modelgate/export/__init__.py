"""Exports of the registry into other tools' formats (``modelgate export --format ...``)."""
