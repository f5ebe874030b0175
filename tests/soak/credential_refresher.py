"""A child process for the credential-file torture test: refresh the token in a loop.

    python credential_refresher.py BASE_URL CREDENTIAL_FILE

Prints one line per saved token so the parent can kill it at varied moments.
"""

from __future__ import annotations

import sys

import acme_powerschool

base_url, path = sys.argv[1], sys.argv[2]
ps = acme_powerschool.api(base_url, credential_file=path)
while True:
    ps._obtain_access_token()
    print("saved", flush=True)
