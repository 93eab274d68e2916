"""Building the test cluster's container images without a registry (see tools/testcluster/images.py)."""
