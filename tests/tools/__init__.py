"""Developer tools for the book's notebooks (used by the Makefile and the tests)."""
