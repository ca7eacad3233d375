"""The demo plant behind `make run`: its configuration and the helpers the Makefile calls."""
