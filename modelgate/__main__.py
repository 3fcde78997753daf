from __future__ import annotations

from modelgate.cli import console

raise SystemExit(console())
