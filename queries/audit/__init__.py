"""Audit exports: periods, destinations, the manifest chain, signatures and their verification."""
