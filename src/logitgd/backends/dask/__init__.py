"""Training on Dask: the Parquet reader (reader) and the cluster helpers (cluster)."""
