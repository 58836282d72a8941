"""TC66C API server & dashboard: ``python api_server.py [HTTP_PORT] [options]``.

Edit ``CONFIG`` below to change the defaults; command-line flags, environment variables and
settings saved from the dashboard (``POST /api/config``) take precedence, in that order
(see README, "Configuration").
"""

import sys

from tc66c_server.cli import main

CONFIG = {
    "port": "/dev/ttyACM0",  # Port du TC66C ("auto" to find it, "demo" for the simulator)
    "polling_interval": 1.0,  # Intervalle de lecture en secondes
    "data_retention_minutes": 10,  # Durée de rétention des données
}

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]], seed_config=CONFIG))
