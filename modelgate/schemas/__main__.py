from __future__ import annotations

from modelgate.schemas import main

main()
