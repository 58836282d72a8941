"""The HTTP API (FastAPI): seed endpoints, extras, live stream and the dashboard's files."""
