"""The deployment files in ``deploy/``: the process group under the real supervisord, the
systemd units checked by ``systemd-analyze verify``, and the generated environment file."""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from bench.edge import EdgeServer
from bench.influxd import free_port
from edge_common.settings import Settings
from edge_common.wire import Endpoints

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CONF = DEPLOY / "supervisord.conf"
UNITS = DEPLOY / "systemd"
BIN = Path(sys.executable).parent
CHILDREN = ["gateway", "ingest-0", "ingest-1", "persister", "query-0", "query-1"]
# the README's orderly stop: gateway first, persister last
STOP_ORDER = [
    "edge:gateway",
    "edge:ingest-0",
    "edge:ingest-1",
    "edge:query-0",
    "edge:query-1",
    "edge:persister",
]


# --- (c) the environment file -------------------------------------------------------------
def test_env_example_is_what_make_env_prints() -> None:
    out = subprocess.run(
        [sys.executable, str(DEPLOY / "make_env.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert (DEPLOY / "edge.env.example").read_text() == out, (
        "deploy/edge.env.example is stale: run "
        "`.venv/bin/python deploy/make_env.py > deploy/edge.env.example`"
    )
    keys = re.findall(r"^#(INFLUXDB3_[A-Z0-9_]+)=", out, flags=re.M)
    assert keys == [
        next(n for n in Settings.env_names(f) if n.startswith("INFLUXDB3_"))
        for f in Settings.model_fields
    ]


def test_env_example_loads_as_the_defaults(tmp_path: Path) -> None:
    """A line uncommented from the example, sourced by the supervisord wrapper, is read back by
    the settings model as that very default (except for the settings unset by default, whose
    lines are templates: an empty value is not the same as unset)."""
    example = (DEPLOY / "edge.env.example").read_text()
    unset = {
        next(n for n in Settings.env_names(f) if n.startswith("INFLUXDB3_"))
        for f, field in Settings.model_fields.items()
        if field.default is None
    }
    lines = [
        line[1:]
        for line in example.splitlines()
        if re.match(r"#INFLUXDB3_\w+=", line) and line[1:].split("=")[0] not in unset
    ]
    env_file = tmp_path / "edge.env"
    env_file.write_text(example + "\n".join(lines) + "\n")
    code = "from edge_common.settings import Settings; print(Settings().model_dump_json())"
    clean = _clean_env()
    uncommented = subprocess.run(
        [str(DEPLOY / "run-with-env.sh"), str(env_file), sys.executable, "-c", code],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert uncommented.returncode == 0, uncommented.stderr
    defaults = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, timeout=60
    )
    assert uncommented.stdout == defaults.stdout


def test_worker_counts_agree_with_serve_defaults() -> None:
    """supervisord's numprocs and the instances edge.target wants are the default counts."""
    ingest = Settings.model_fields["ingest_workers"].default
    query = Settings.model_fields["query_workers"].default
    conf = configparser.RawConfigParser(inline_comment_prefixes=(";",), strict=False)
    conf.read(CONF)
    assert int(conf["program:ingest"]["numprocs"]) == ingest
    assert int(conf["program:query"]["numprocs"]) == query
    assert conf["group:edge"]["programs"] == "persister,ingest,query,gateway"
    target = (UNITS / "edge.target").read_text()
    wants = {w for line in re.findall(r"^Wants=(.*)$", target, re.M) for w in line.split()}
    assert wants == {
        "edge-persister.service",
        "edge-gateway.service",
        *(f"edge-ingest@{i}.service" for i in range(ingest)),
        *(f"edge-query@{i}.service" for i in range(query)),
    }


# --- (a) the group under supervisord ------------------------------------------------------
def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything the settings model would read (``INFLUXDB3_*``, the
    legacy names and the bare field names, which it also accepts)."""
    names = {n.upper() for f in Settings.model_fields for n in [f, *Settings.env_names(f)]}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.pop("EDGE_HOME", None)
    env.pop("EDGE_PYTHON", None)
    env.pop("EDGE_ENV_FILE", None)
    return {**env, **extra}


def _tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} missing: supervisor is in the test extra (pip install -e '.[test]')")
    return path


def _start_time(pid: int) -> str | None:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _logs(home: Path) -> str:
    parts = []
    for f in [*sorted((home / "log").glob("*.log")), home / "supervisord.out"]:
        if f.exists():
            parts.append(f"--- {f.name}\n{f.read_text(errors='replace')[-1500:]}")
    return "\n".join(parts)


def test_supervisord_runs_stops_and_restarts_the_group(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "log").mkdir(parents=True)
    (home / "supervisord.d").mkdir()
    port = free_port()
    env_file = home / "edge.env"
    # the shipped example (all defaults, so the data dir is "data" under EDGE_HOME) + a port
    env_file.write_text(
        (DEPLOY / "edge.env.example").read_text() + f"\nINFLUXDB3_HTTP_BIND_ADDR=127.0.0.1:{port}\n"
    )
    # an override file, as the README describes: the python running this test, and the
    # persister held back, to show that the workers cope with starting before it
    (home / "supervisord.d" / "test.conf").write_text(
        f'[supervisord]\nenvironment=EDGE_PYTHON="{sys.executable}",EDGE_ENV_FILE="{env_file}"\n'
        "[program:persister]\nautostart=false\n"
    )
    env = _clean_env(EDGE_HOME=str(home))

    def ctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_tool("supervisorctl")), "-c", str(CONF), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    out = open(home / "supervisord.out", "wb")  # noqa: SIM115 - closed in finally
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(_tool("supervisord")), "-n", "-c", str(CONF)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    seen: dict[int, str | None] = {}  # pid -> start time, to kill only those very processes
    server = EdgeServer(f"http://127.0.0.1:{port}", home / "data", proc, home / "supervisord.out")

    def children() -> dict[str, int]:
        kids = server.children()
        for pid in kids.values():
            seen.setdefault(pid, _start_time(pid))
        return kids

    def wait_healthy(timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while server.health() != 200:
            children()
            assert proc.poll() is None, f"supervisord exited:\n{_logs(home)}"
            assert time.monotonic() < deadline, f"not healthy in {timeout_s} s:\n{_logs(home)}"
            time.sleep(0.2)

    def running() -> list[str]:
        return sorted(re.findall(r"^(edge:\S+)\s+RUNNING", ctl("status").stdout, re.M))

    try:
        # without the persister (and so without the socket directory it makes) the workers
        # and the gateway come up and stay up, and the group reports itself unhealthy
        deadline = time.monotonic() + 90
        while running() != sorted(set(STOP_ORDER) - {"edge:persister"}):
            assert proc.poll() is None, f"supervisord exited:\n{_logs(home)}"
            assert time.monotonic() < deadline, f"workers not running:\n{_logs(home)}"
            time.sleep(0.2)
        early = children()
        assert sorted(early) == sorted(set(CHILDREN) - {"persister"})
        while server.health() != 503:  # 0 until the gateway listens
            assert time.monotonic() < deadline, f"gateway not answering:\n{_logs(home)}"
            time.sleep(0.2)
        time.sleep(1.0)
        assert children() == early, f"a worker restarted:\n{_logs(home)}"
        assert ctl("start", "edge:persister").returncode == 0

        wait_healthy()
        healthy_s = time.monotonic() - started
        kids = children()
        assert sorted(kids) == CHILDREN
        assert running() == sorted(STOP_ORDER)

        with httpx.Client(base_url=server.url, timeout=60) as http:
            r = http.post(
                "/api/v3/write_lp",
                params={"db": "d"},
                content=b"m,host=a v=1i 1700000000000000000\n",
            )
            assert r.status_code == 204, r.text
            r = http.get("/api/v3/query_sql", params={"db": "d", "q": "SELECT * FROM m"})
            assert r.status_code == 200, r.text
            assert r.json() == [{"host": "a", "v": 1, "time": "2023-11-14T22:13:20"}]

        # the default data dir is relative to EDGE_HOME (directory=)
        assert (home / "data" / "wal").is_dir()

        # autorestart: a killed worker comes back under another pid, the group heals
        old = kids["ingest-0"]
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while children().get("ingest-0") in (None, old):
            assert time.monotonic() < deadline, f"ingest-0 not restarted:\n{_logs(home)}"
            time.sleep(0.2)
        wait_healthy()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            r = http.get(
                "/api/v3/query_sql", params={"db": "d", "q": "SELECT count(*) AS n FROM m"}
            )
            assert r.json() == [{"n": 1}], r.text
        pids = set(children().values())

        stop_started = time.monotonic()
        stopped = ctl("stop", *STOP_ORDER)
        stop_s = time.monotonic() - stop_started
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert stopped.stdout.split() == [w for n in STOP_ORDER for w in (f"{n}:", "stopped")]
        assert server.children() == {}
        assert not [pid for pid in pids if _start_time(pid) == seen[pid]]
        for name in CHILDREN:
            assert (home / "log" / f"{name}.log").exists()
        # each stopped on its SIGTERM, none had to be killed (uvicorn, in the gateway, ends by
        # raising the signal again once it has shut down)
        log = (home / "log" / "supervisord.log").read_text()
        stops = dict(re.findall(r"stopped: (\S+) \((.*?)\)", log))
        assert sorted(stops) == CHILDREN, log
        assert {s for n, s in stops.items() if n != "gateway"} == {"exit status 0"}, log
        assert stops["gateway"] in ("exit status 0", "terminated by SIGTERM"), log

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        print(f"healthy after {healthy_s:.1f} s; ordered stop took {stop_s:.1f} s")
    finally:
        if proc.poll() is None:  # the test failed: let supervisord stop its children, or kill
            children()
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                children()
                proc.kill()
                proc.wait()
        for pid, start in seen.items():
            if start is not None and _start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        out.close()
        run_dir = Endpoints.for_data_dir(home / "data").run_dir
        if run_dir.parent == Path(tempfile.gettempdir()):  # a long data dir's sockets
            shutil.rmtree(run_dir, ignore_errors=True)


# --- (b) the systemd units ----------------------------------------------------------------
def test_systemd_units_verify(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed: the systemd units are not verified")
    names = [p.name for p in sorted(UNITS.iterdir())]
    assert sorted(names) == sorted(
        [
            "edge-persister.service",
            "edge-ingest@.service",
            "edge-query@.service",
            "edge-gateway.service",
            "edge.target",
        ]
    )
    for name in names:  # ExecStart must name an executable that exists here
        text = (UNITS / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/edge/.venv/bin/python", sys.executable))
    units = [
        "edge.target",
        "edge-persister.service",
        "edge-gateway.service",
        "edge-ingest@0.service",
        "edge-ingest@1.service",
        "edge-query@0.service",
        "edge-query@1.service",
    ]
    r = subprocess.run(
        [tool, "verify", "--man=no", *(f"./{u}" for u in units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = r.stdout + r.stderr
    assert r.returncode == 0, output
    # it only warns (exit 0) about unknown keys and bad values: none may name our units
    ours = [line for line in output.splitlines() if "edge" in line]
    assert not ours, output

    for name, start in [
        ("edge-persister.service", "-m edge_persister"),
        ("edge-ingest@.service", "-m edge_ingest --worker %i"),
        ("edge-query@.service", "-m edge_query --worker %i"),
        ("edge-gateway.service", "-m edge_gateway"),
    ]:
        text = (UNITS / name).read_text()
        for line in [
            f"ExecStart=/opt/edge/.venv/bin/python {start}",
            "EnvironmentFile=/etc/edge/edge.env",
            "Restart=on-failure",
            "KillSignal=SIGTERM",
            "TimeoutStopSec=30",
            "PartOf=edge.target",
            "User=edge",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/edge",
            "PrivateTmp=yes",
        ]:
            assert re.search(f"^{re.escape(line)}$", text, re.M), (name, line)


def test_systemd_workers_prepare_the_socket_directory(tmp_path: Path) -> None:
    """The workers' ExecStartPre (which systemd-analyze does not run) creates the data directory
    and the socket directory the worker binds in, from the same settings."""
    data = tmp_path / "d"
    for name in ["edge-ingest@.service", "edge-query@.service"]:
        (pre,) = re.findall(r"^ExecStartPre=(.*)$", (UNITS / name).read_text(), re.M)
        argv = shlex.split(pre)
        assert argv[0] == "/opt/edge/.venv/bin/python"
        shutil.rmtree(data, ignore_errors=True)
        r = subprocess.run(
            [sys.executable, *argv[1:]],
            env=_clean_env(INFLUXDB3_DB_DIR=str(data)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        run_dir = Endpoints.for_data_dir(data).run_dir
        assert data.is_dir() and run_dir.is_dir()
        assert run_dir.stat().st_mode & 0o777 == 0o700
        if run_dir.parent == Path(tempfile.gettempdir()):
            shutil.rmtree(run_dir)
