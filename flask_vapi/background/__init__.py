"""Work done off the request path: Live Call Control delivery of late tool results."""
