"""The version of paimon_py (written into snapshots as ``writer_version``)."""

__version__ = "0.1.0"
