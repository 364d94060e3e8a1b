"""Many small writes at once: an ingest worker joins the writes to one database that
arrive together into one record (one WAL append, one apply), and still answers each
request for its own lines, as if it had been alone."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from bench.edge import EdgeServer

CLIENTS = 12
WRITES = 40  # per client


def _client(edge: EdgeServer, c: int, answers: dict[tuple[int, int], Any]) -> None:
    with httpx.Client(base_url=edge.url, timeout=60) as http:
        for i in range(WRITES):
            t = c * 1000 + i
            if i % 10 == 3:  # 1.x: the good line is kept, the bad one named
                body = f"sw,c={c} v={i}i {t}\nsw,c={c} v=oops {t}"
                r = http.post("/write", params={"db": "swdb"}, content=body)
            elif i % 10 == 7:  # 2.x: all or nothing, nothing of this request kept
                body = f"sw,c={c} v={i}i {t}\nsw,c={c} v=oops {t}"
                r = http.post("/api/v2/write", params={"bucket": "swdb"}, content=body)
            else:
                r = http.post("/write", params={"db": "swdb"}, content=f"sw,c={c} v={i}i {t}")
            answers[(c, i)] = (r.status_code, r.json() if r.content else None)


def test_concurrent_small_writes_each_answered_for_its_own_lines(
    edge: EdgeServer, http: httpx.Client
) -> None:
    answers: dict[tuple[int, int], Any] = {}
    threads = [threading.Thread(target=_client, args=(edge, c, answers)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == CLIENTS * WRITES
    for (c, i), (status, doc) in answers.items():
        if i % 10 == 3:
            assert status == 400 and doc["error"].startswith("partial write"), doc
            # (influxd's words: dropped counts only points refused when stored)
            said = (
                f"partial write: unable to parse 'sw,c={c} v=oops {c * 1000 + i}': invalid boolean"
            )
            assert doc["error"] == f"{said} dropped=0", doc
        elif i % 10 == 7:
            assert status == 400 and doc["code"] == "invalid", doc
            assert "at line 2" in doc["message"], doc
        else:
            assert (status, doc) == (204, None)
    # every acknowledged line is there, once; nothing of the refused 2.x requests
    r = http.get("/query", params={"db": "swdb", "q": "SELECT v FROM sw GROUP BY c"})
    series = r.json()["results"][0]["series"]
    assert len(series) == CLIENTS
    for s in series:
        c = int(s["tags"]["c"])
        got = [(row[0], row[1]) for row in s["values"]]
        kept = [i for i in range(WRITES) if i % 10 != 7]
        assert [v for _, v in got] == kept, c
