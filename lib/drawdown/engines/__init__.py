"""Engines that run the shards of a book elsewhere than a local process pool (docs/scale.md)."""
