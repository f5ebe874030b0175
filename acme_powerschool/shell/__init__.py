"""Thin I/O shells: HTTP, credential persistence, keyring and Oracle. No policy lives here."""
