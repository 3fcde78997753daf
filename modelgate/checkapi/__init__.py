"""The check API: declaring a check, calling it, explaining a failed assert, collecting checks."""
