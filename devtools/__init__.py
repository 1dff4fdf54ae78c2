"""Developer tooling: running the three runtimes locally."""
