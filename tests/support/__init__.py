"""Support code for the tests (no tests in here; pytest does not collect this package).

* ``helpers``: lake helpers: paimon_py/pypaimon catalogs over one warehouse, ``read_sorted``,
  ``assert_rows_equal`` ...
* ``paths``: ``ROOT`` (the repository) and ``TESTS``, whatever a test module's depth.
* ``waiting``: ``wait_until(predicate, timeout, what)``, the one polling loop of the tests.
* ``postgres``: the PostgreSQL sync tests' helpers: ``Job`` (a sync job in a child process),
  ``conf_args``, ``lake_rows``/``source_rows``, ``wait_equal``, ``confirmed_lsn``, the
  ``orders``/``events`` workload, ``fresh_database``, ``change_stream`` (a pgoutput slot).
* ``postgres_type_cases``: every supported PostgreSQL column type with its literals and values.
* ``type_cases``: values of every atomic Paimon type (interop tests).
* ``flink_standalone``: a private standalone Flink cluster (``Cluster``).
* ``java_tool``: Apache Paimon's Java implementation driven from the tests.

The PostgreSQL server itself is a fixture: ``postgres_server`` / ``database`` in
``tests/conftest.py``.
"""
