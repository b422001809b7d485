"""The Alpaca-compatible face: Alpaca's paths, fields, status codes and error bodies.

Requests authenticate with an API key pair (``APCA-API-KEY-ID``, ``APCA-API-SECRET-KEY``)
bound to one portfolio, and every route calls the same services as ``/api`` does.
"""
