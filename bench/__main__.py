"""`python -m bench`: run every benchmark and write bench/results.{json,md,png}."""

import sys

from bench.run_bench import main

sys.exit(main())
