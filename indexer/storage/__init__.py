"""indexer.storage: what a generation holds on disk, and how it is written, read, verified, locked and published."""
