"""Developer tools shared by the tests and the demo (not part of the package)."""
