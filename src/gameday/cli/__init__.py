"""gameday's command line: one module per command group; errors become exit codes here."""
