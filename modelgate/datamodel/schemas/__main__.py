from __future__ import annotations

from modelgate.datamodel.schemas import main

main()
