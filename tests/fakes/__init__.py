"""Fakes of outside services that tests talk to over real sockets (bound to 127.0.0.1 only)."""
