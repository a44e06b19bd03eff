"""One way through: bind -> validate -> compute -> plan -> (backend write) -> log."""
