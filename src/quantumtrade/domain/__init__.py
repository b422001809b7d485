"""Pure trading rules: no database, no web server, no I/O."""
