"""One httpx client, its connections kept alive, for the tests' many single requests.

``httpx.get`` makes a client for each request, and every client loads the CA bundle
(~27 ms here, though these tests speak plain HTTP on loopback): two thirds of the
compatibility module's time went there. A connection the server closed (a gateway
killed or restarted) is dropped from the pool, not reused.
"""

from __future__ import annotations

import httpx

__all__ = ["http"]

http = httpx.Client()  # (httpx.get's default timeout, 5 s; callers pass their own)
