"""The demo region and the `make demo` runner."""
