"""Feature serving: the HTTP API over the online store (``app``) and its Python client."""

API_KEY_HEADER = "X-API-Key"
