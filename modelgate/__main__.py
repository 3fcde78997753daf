from __future__ import annotations

from modelgate.cli import main

raise SystemExit(main())
