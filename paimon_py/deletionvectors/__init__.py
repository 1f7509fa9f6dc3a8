"""Deletion vectors of primary-key tables: the bitmaps, their index files, and each bucket's set."""
