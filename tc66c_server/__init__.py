"""tc66c-server: REST API, live dashboard and emulator for the RDTech TC66C USB-C meter."""

__version__ = "0.1.0"
