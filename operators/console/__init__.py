"""``paimon-cdc``: the console command that looks at and looks after a lake the sync jobs write.

One module per subcommand (or per family of them); ``main`` parses the command line and turns
errors into one line on stderr; ``output`` renders every result as a table for people or JSON for
scripts. Flink-free: nothing here starts a JVM.
"""
