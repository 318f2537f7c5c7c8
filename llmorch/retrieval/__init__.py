"""Vector stores (Qdrant Edge embedded, Qdrant server) and hybrid search over indexed notes."""
