"""Ingest: walk sources, parse Obsidian markdown into chunks, sync them incrementally into a store."""
