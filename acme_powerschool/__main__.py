"""`python -m acme_powerschool`: the same command as the `acme-powerschool` console script."""

from __future__ import annotations

from acme_powerschool.cli import main

if __name__ == "__main__":
    main()
