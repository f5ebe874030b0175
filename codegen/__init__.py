"""Generates acme_powerschool/models, acme_powerschool/endpoints and docs/endpoints.md from specs/.

Only `python -m codegen` writes; the library never imports this package.
"""
