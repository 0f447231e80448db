"""Training backends other than the in-memory NumPy one."""
