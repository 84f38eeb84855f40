"""End-to-end tests: the project driven against real servers and processes."""
