"""S3ObjectStore against a real S3 endpoint (moto's server in a subprocess)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from bench.influxd import free_port
from edge_common.errors import ObjectStoreError, from_wire
from edge_common.objectstore import (
    FileObjectStore,
    MemoryObjectStore,
    S3ObjectStore,
    object_store_from_settings,
)
from edge_common.settings import Settings
from tests.common.test_objectstore import check_put_get_list_delete
from tests.s3 import MotoServer

_KEY, _SECRET = "testing-key", "testing-secret"
_S3_FIELDS = (
    "object_store",
    "bucket",
    "aws_endpoint",
    "aws_region",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_allow_http",
)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with MotoServer(tmp_path_factory.mktemp("moto")) as server:
        yield server


def _admin(url: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=_KEY,
        aws_secret_access_key=_SECRET,
    )


@pytest.fixture
def bucket(moto: MotoServer) -> str:
    name = f"edge-{uuid.uuid4().hex[:12]}"
    _admin(moto.url).create_bucket(Bucket=name)
    return name


def _store(url: str, bucket: str, **kwargs: Any) -> S3ObjectStore:
    return S3ObjectStore(
        bucket,
        endpoint=url,
        access_key_id=_KEY,
        secret_access_key=_SECRET,
        allow_http=True,
        **kwargs,
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No S3-related variable of the outer environment leaks into Settings()."""
    for name in _S3_FIELDS:
        for env in Settings.env_names(name):
            monkeypatch.delenv(env, raising=False)
    return monkeypatch


def test_put_get_list_delete(moto: MotoServer, bucket: str) -> None:
    check_put_get_list_delete(_store(moto.url, bucket))


def test_binary_and_empty_objects(moto: MotoServer, bucket: str) -> None:
    store = _store(moto.url, bucket)
    blob = bytes(range(256)) * 1000
    store.put("bin", blob)
    store.put("empty", b"")
    assert store.get("bin") == blob
    assert store.get("empty") == b""


def test_list_paginates_past_1000_keys(moto: MotoServer, bucket: str) -> None:
    store = _store(moto.url, bucket)
    keys = [f"p/{i:05d}" for i in range(1100)]
    with ThreadPoolExecutor(8) as pool:  # boto3 clients are thread-safe
        list(pool.map(lambda k: store.put(k, b"."), keys))
    store.put("q/other", b".")
    assert store.list("p/") == keys
    assert len(store.list("")) == 1101


def test_list_with_small_pages(moto: MotoServer, bucket: str) -> None:
    store = _store(moto.url, bucket, page_size=7)
    keys = [f"k/{i:03d}" for i in range(50)]
    for k in reversed(keys):
        store.put(k, b".")
    assert store.list("k/") == keys
    assert store.list("k/04") == keys[40:50]


def test_key_prefix(moto: MotoServer, bucket: str) -> None:
    store = _store(moto.url, bucket, prefix="/tenant/a/")
    other = _store(moto.url, bucket, prefix="tenant/b")
    store.put("n/x", b"1")
    other.put("n/x", b"2")
    assert store.list("") == ["n/x"] and store.get("n/x") == b"1"
    assert other.list("n/") == ["n/x"] and other.get("n/x") == b"2"
    assert _store(moto.url, bucket).list("") == ["tenant/a/n/x", "tenant/b/n/x"]
    assert store.uri("n/x") == f"s3://{bucket}/tenant/a/n/x"
    store.delete("n/x")
    assert store.list("") == [] and other.get("n/x") == b"2"


def test_uri_of_every_store(moto: MotoServer, bucket: str, tmp_path: Path) -> None:
    assert _store(moto.url, bucket).uri("n/catalog/1.json") == f"s3://{bucket}/n/catalog/1.json"
    assert MemoryObjectStore().uri("n/x") == "memory:///n/x"
    file_uri = FileObjectStore(tmp_path / "objects").uri("n/x")
    assert file_uri == f"file://{(tmp_path / 'objects' / 'n' / 'x').resolve()}"
    assert file_uri.startswith("file:///")


def test_missing_bucket_is_an_error_not_a_missing_key(moto: MotoServer) -> None:
    store = _store(moto.url, f"absent-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ObjectStoreError, match="NoSuchBucket"):
        store.get("k")
    with pytest.raises(ObjectStoreError):
        store.put("k", b"v")
    with pytest.raises(ObjectStoreError):
        store.list("")


def test_connection_refused_is_object_store_error() -> None:
    store = _store(
        f"http://127.0.0.1:{free_port()}", "b", connect_timeout=1, read_timeout=1, max_attempts=2
    )
    started = time.monotonic()
    with pytest.raises(ObjectStoreError, match=r"put of s3://b/k failed") as info:
        store.put("k", b"v")
    assert time.monotonic() - started < 10
    assert info.value.code == "object_store"
    for call in (lambda: store.get("k"), lambda: store.list(""), lambda: store.delete("k")):
        with pytest.raises(ObjectStoreError):
            call()


def test_outage_raises_then_recovers(moto: MotoServer, bucket: str) -> None:
    store = _store(moto.url, bucket, connect_timeout=0.5, read_timeout=0.5, max_attempts=2)
    store.put("before", b"1")
    moto.pause()
    try:
        started = time.monotonic()
        with pytest.raises(ObjectStoreError):
            store.put("during", b"2")
        elapsed = time.monotonic() - started
        assert elapsed < 10, elapsed
        with pytest.raises(ObjectStoreError):
            store.get("before")
    finally:
        moto.resume()
    store.put("after", b"3")
    assert store.get("before") == b"1"
    assert store.get("after") == b"3"
    # The timed-out put reached the paused server's backlog; once resumed it may be applied.
    assert set(store.list("")) <= {"before", "during", "after"}


def test_restart_loses_moto_state(tmp_path: Path) -> None:
    with MotoServer(tmp_path) as server:
        port = server.port
        _admin(server.url).create_bucket(Bucket="bkt")
        store = _store(server.url, "bkt")
        store.put("k", b"v")
        server.stop()
        assert not server.answers()
        server.start()
        assert server.port == port
        with pytest.raises(ObjectStoreError, match="NoSuchBucket"):
            store.get("k")
        _admin(server.url).create_bucket(Bucket="bkt")
        assert store.get("k") is None
        store.put("k", b"again")
        assert store.get("k") == b"again"


def test_stop_while_paused(tmp_path: Path) -> None:
    server = MotoServer(tmp_path)
    server.start()
    proc = server.proc
    assert proc is not None
    server.pause()
    started = time.monotonic()
    server.stop()
    assert proc.poll() is not None
    assert time.monotonic() - started < 10


def test_settings_build_an_s3_store(moto: MotoServer, bucket: str, clean_env: Any) -> None:
    settings = Settings(
        object_store="s3",
        bucket=bucket,
        aws_endpoint=moto.url,
        aws_access_key_id=_KEY,
        aws_secret_access_key=_SECRET,
        aws_allow_http=True,
    )
    store = object_store_from_settings(settings)
    assert isinstance(store, S3ObjectStore)
    store.put("n/x", b"via settings")
    assert _store(moto.url, bucket).get("n/x") == b"via settings"
    assert store.uri("n/x") == f"s3://{bucket}/n/x"


def test_settings_s3_needs_a_bucket(clean_env: Any) -> None:
    with pytest.raises(ValidationError, match="needs --bucket"):
        Settings(object_store="s3")
    assert Settings(object_store="file").bucket is None


def test_settings_http_endpoint_needs_allow_http(clean_env: Any) -> None:
    with pytest.raises(ValidationError, match="aws-allow-http"):
        Settings(object_store="s3", bucket="b", aws_endpoint="http://127.0.0.1:9000")
    Settings(object_store="s3", bucket="b", aws_endpoint="https://s3.example.com")
    Settings(
        object_store="s3", bucket="b", aws_endpoint="http://127.0.0.1:9000", aws_allow_http=True
    )
    with pytest.raises(ValueError, match="plain http"):
        S3ObjectStore("b", endpoint="http://127.0.0.1:9000")


def test_settings_key_pair_goes_together(clean_env: Any) -> None:
    with pytest.raises(ValidationError, match="together"):
        Settings(object_store="s3", bucket="b", aws_access_key_id="k")
    assert Settings(aws_access_key_id="k").aws_access_key_id == "k"  # unused unless s3


def test_settings_from_aws_env_aliases(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("INFLUXDB3_OBJECT_STORE", "s3")
    clean_env.setenv("INFLUXDB3_BUCKET", "from-env")
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    clean_env.setenv("AWS_REGION", "eu-west-3")
    clean_env.setenv("AWS_ACCESS_KEY_ID", "aws-key")
    clean_env.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    clean_env.setenv("INFLUXDB3_AWS_ALLOW_HTTP", "true")
    s = Settings()
    assert (s.object_store, s.bucket, s.aws_endpoint) == ("s3", "from-env", "http://127.0.0.1:9000")
    assert (s.aws_region, s.aws_access_key_id, s.aws_secret_access_key) == (
        "eu-west-3",
        "aws-key",
        "aws-secret",
    )
    assert s.aws_allow_http is True
    clean_env.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert Settings().aws_region == "ap-south-1"  # AWS_DEFAULT_REGION before AWS_REGION
    clean_env.setenv("INFLUXDB3_AWS_REGION", "us-west-2")
    clean_env.setenv("INFLUXDB3_AWS_ACCESS_KEY_ID", "edge-key")
    clean_env.setenv("INFLUXDB3_AWS_SECRET_ACCESS_KEY", "edge-secret")
    clean_env.setenv("INFLUXDB3_AWS_ENDPOINT", "https://s3.example.com")
    s = Settings()
    assert (s.aws_region, s.aws_access_key_id, s.aws_secret_access_key, s.aws_endpoint) == (
        "us-west-2",
        "edge-key",
        "edge-secret",
        "https://s3.example.com",
    )


def test_settings_to_env_round_trip(clean_env: pytest.MonkeyPatch) -> None:
    s = Settings(
        object_store="s3",
        bucket="b",
        aws_endpoint="http://127.0.0.1:9000",
        aws_region="eu-central-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        aws_allow_http=True,
    )
    env = s.to_env()
    assert all(k.startswith("INFLUXDB3_") for k in env)
    assert env["INFLUXDB3_AWS_ENDPOINT"] == "http://127.0.0.1:9000"
    assert "INFLUXDB3_BUCKET" in env and "INFLUXDB3_AWS_ALLOW_HTTP" in env
    # A child inherits the parent's environment plus to_env(): ambient AWS_* must not win.
    clean_env.setenv("AWS_REGION", "ambient-region")
    clean_env.setenv("AWS_ACCESS_KEY_ID", "ambient-key")
    clean_env.setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret")
    clean_env.setenv("AWS_ENDPOINT_URL", "https://ambient.example.com")
    for k, v in env.items():
        clean_env.setenv(k, v)
    again = Settings()
    assert {f: getattr(again, f) for f in _S3_FIELDS} == {f: getattr(s, f) for f in _S3_FIELDS}
    assert "AWS_ENDPOINT_URL" in Settings.env_names("aws_endpoint")


def test_object_store_error_travels_over_the_wire() -> None:
    err = from_wire(ObjectStoreError("put of s3://b/k failed").to_wire())
    assert type(err) is ObjectStoreError and err.message == "put of s3://b/k failed"
