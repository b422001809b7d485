"""Use cases shared by the REST API, the WebSocket API and the CLI."""
