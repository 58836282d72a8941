"""``python -m tc66c_server`` is the ``tc66c-server`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # spawned child processes import this module too
    sys.exit(main())
