"""Inputs: reading a source (a folder of CSV/Parquet files or a database), the data contract its
tables must keep, rating usage with the covering contract, validation into a ``Book`` with its
rejects and data-quality record, and the sample book generator (docs/data-contract.md)."""
