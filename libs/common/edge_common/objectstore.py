"""Object storage behind one small interface: ``file`` (a directory), ``memory`` and ``s3``.

Services never touch a storage backend directly; they are handed an :class:`ObjectStore`.
Keys are built by :mod:`edge_common.paths` only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from edge_common.errors import ObjectStoreError
from edge_common.settings import Settings

__all__ = [
    "FileObjectStore",
    "MemoryObjectStore",
    "ObjectStore",
    "S3ObjectStore",
    "object_store_from_settings",
]


class ObjectStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; durable when this returns."""

    def get(self, key: str) -> bytes | None:
        """The object, or ``None`` when there is none."""

    def list(self, prefix: str) -> list[str]:
        """Keys that start with ``prefix``, sorted."""

    def delete(self, key: str) -> None:
        """Remove the object if it exists."""

    def uri(self, key: str) -> str:
        """Where ``key`` lives, as a URI (``file:///...``, ``memory:///...``, ``s3://...``)."""


class FileObjectStore:
    """Objects as files under ``root``; a put is written aside, fsynced and renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"object key {key!r} leaves the store")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def list(self, prefix: str) -> list[str]:
        base = self.root.resolve()
        if not base.is_dir():
            return []
        keys = (str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not k.endswith(".tmp"))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()


class MemoryObjectStore:
    """Objects in a dict: for unit tests, and for servers that keep nothing across restarts."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.objects[key] = bytes(data)

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def uri(self, key: str) -> str:
        return f"memory:///{key}"


class S3ObjectStore:
    """Objects in an S3 bucket (AWS or an S3-compatible endpoint), optionally under a prefix.

    One boto3 client is built here and reused (boto3 clients are thread-safe; do not share one
    across ``fork``). Every failure that survives botocore's own retries (standard mode,
    ``max_attempts`` tries in all, the first included) is raised as :class:`ObjectStoreError`;
    only a missing key is not an error. An unresponsive store fails a call after about
    ``max_attempts * (connect_timeout + read_timeout)`` plus backoff; a put waits up to 1 s more
    per try for ``100 Continue`` (fixed in botocore). A put that timed out may still reach the
    store and be applied later. ``prefix`` puts every key under ``<prefix>/`` in the bucket;
    :meth:`list` returns keys without it.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        allow_http: bool = False,
        prefix: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
        page_size: int = 1000,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 object store needs a bucket")
        if endpoint is not None and endpoint.lower().startswith("http://") and not allow_http:
            raise ValueError(f"S3 endpoint {endpoint} is plain http and allow_http is off")
        if not 1 <= page_size <= 1000:
            raise ValueError(f"page_size must be 1..1000, not {page_size}")
        self.bucket = bucket
        self.endpoint = endpoint
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.page_size = page_size
        import boto3  # here, not at the top: ~0.15 s that file and memory stores never pay
        from botocore.config import Config

        config = Config(
            region_name=region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            # Custom endpoints (MinIO, moto, ...) rarely resolve bucket.host names.
            s3={"addressing_style": "path"} if endpoint else {},
        )
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def _error(self, op: str, key: str, exc: Exception) -> ObjectStoreError:
        return ObjectStoreError(f"object store {op} of {self.uri(key)} failed: {exc}")

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=bytes(data))
        except (BotoCoreError, ClientError) as exc:
            raise self._error("put", key, exc) from exc

    def get(self, key: str) -> bytes | None:
        try:
            resp = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            return bytes(resp["Body"].read())
        except ClientError as exc:
            if _is_missing_key(exc):
                return None
            raise self._error("get", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("get", key, exc) from exc

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        skip = len(self.prefix)
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket,
                Prefix=self.prefix + prefix,
                PaginationConfig={"PageSize": self.page_size},
            )
            for page in pages:
                keys.extend(obj["Key"][skip:] for obj in page.get("Contents", ()))
        except (BotoCoreError, ClientError) as exc:
            raise self._error("list", prefix, exc) from exc
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            if _is_missing_key(exc):
                return
            raise self._error("delete", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("delete", key, exc) from exc

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"


def _is_missing_key(exc: ClientError) -> bool:
    """A missing object, as opposed to a missing bucket (also a 404, but a real error)."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound")


def object_store_from_settings(settings: Settings) -> ObjectStore:
    if settings.object_store == "memory":
        return MemoryObjectStore()
    if settings.object_store == "s3":
        assert settings.bucket, "Settings requires a bucket for s3"
        return S3ObjectStore(
            settings.bucket,
            endpoint=settings.aws_endpoint,
            region=settings.aws_region,
            access_key_id=settings.aws_access_key_id,
            secret_access_key=settings.aws_secret_access_key,
            allow_http=settings.aws_allow_http,
        )
    return FileObjectStore(settings.data_dir / "objects")
