"""The WebSocket API at ``/ws``."""
