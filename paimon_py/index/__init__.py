"""Dynamic bucket mode: the HASH index files, bucket assignment from them, their upkeep."""
