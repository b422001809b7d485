"""HTTP and WebSocket API: the app factory, routers, schemas and middleware."""
