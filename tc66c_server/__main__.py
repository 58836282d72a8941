"""``python -m tc66c_server`` is the ``tc66c-server`` command."""

import sys

from .cli import main

sys.exit(main())
