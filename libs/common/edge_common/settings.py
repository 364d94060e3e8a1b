"""The one settings model. Every option is a CLI flag and an ``INFLUXDB3_*`` environment variable.

``influxdb3 serve`` parses flags into :class:`Settings`, then hands the same values to each child
process through the environment (:func:`Settings.to_env`), so every process sees one truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Server settings; field descriptions double as CLI help and the settings reference."""

    # case-sensitive: only the upper-case INFLUXDB3_* (and legacy) names are read from the
    # environment, never a field's own name (LOG_LEVEL must not override INFLUXDB3_LOG_LEVEL)
    model_config = SettingsConfigDict(
        populate_by_name=True, extra="ignore", case_sensitive=True, env_ignore_empty=True
    )

    http_bind: str = Field(
        "0.0.0.0:8181",
        description="Address the HTTP API listens on (host:port).",
        validation_alias=_env("http_bind", "INFLUXDB3_HTTP_BIND_ADDR"),
    )
    flight_bind: str | None = Field(
        None,
        description="An extra address (host:port) serving only Arrow Flight / Flight SQL; "
        "gRPC clients are always served on --http-bind too.",
        validation_alias=_env("flight_bind", "INFLUXDB3_FLIGHT_BIND_ADDR"),
    )
    http_only: bool = Field(
        False,
        description="Serve only HTTP on --http-bind (by default gRPC clients are served there "
        "too); Flight clients then need --flight-bind.",
        validation_alias=_env("http_only", "INFLUXDB3_HTTP_ONLY"),
    )
    data_dir: Path = Field(
        Path("data"),
        description="Directory for the write-ahead log, the catalog and local object storage.",
        validation_alias=_env("data_dir", "INFLUXDB3_DB_DIR", "INFLUXDB_IOX_DB_DIR"),
    )
    object_store: Literal["file", "memory", "s3"] = Field(
        "file",
        description="Where persisted data lives: 'file' (under --data-dir), 'memory' or 's3' "
        "(an S3 bucket; see --bucket and --aws-*).",
        validation_alias=_env(
            "object_store", "INFLUXDB3_OBJECT_STORE", "INFLUXDB_IOX_OBJECT_STORE"
        ),
    )
    bucket: str | None = Field(
        None,
        description="Bucket that holds persisted data when --object-store is 's3'.",
        validation_alias=_env("INFLUXDB3_BUCKET"),
    )
    aws_endpoint: str | None = Field(
        None,
        description="S3 endpoint URL, for S3-compatible stores (MinIO, Ceph, ...); "
        "unset means AWS itself.",
        validation_alias=_env("INFLUXDB3_AWS_ENDPOINT", "AWS_ENDPOINT_URL"),
    )
    aws_region: str = Field(
        "us-east-1",
        description="Region of the S3 bucket.",
        validation_alias=_env("INFLUXDB3_AWS_REGION", "AWS_DEFAULT_REGION", "AWS_REGION"),
    )
    aws_access_key_id: str | None = Field(
        None,
        description="S3 access key id; unset means the AWS default credential chain.",
        validation_alias=_env("INFLUXDB3_AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
    )
    aws_secret_access_key: str | None = Field(
        None,
        description="S3 secret access key; goes with --aws-access-key-id.",
        validation_alias=_env("INFLUXDB3_AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
    )
    aws_allow_http: bool = Field(
        False,
        description="Allow an http:// (unencrypted) --aws-endpoint.",
        validation_alias=_env("INFLUXDB3_AWS_ALLOW_HTTP"),
    )
    node_id: str = Field(
        "edge0",
        description="Name of this node; prefixes every object-store path.",
        validation_alias=_env("node_id", "INFLUXDB3_NODE_IDENTIFIER_PREFIX"),
    )
    max_http_request_size: int = Field(
        10_485_760,
        ge=1024,
        description="Largest accepted HTTP request body in bytes (after gzip decoding).",
        validation_alias=_env("max_http_request_size", "INFLUXDB3_MAX_HTTP_REQUEST_SIZE"),
    )
    max_databases: int = Field(
        100,
        ge=1,
        description="Most databases the catalog holds.",
        validation_alias=_env("max_databases", "INFLUXDB3_MAX_DATABASES"),
    )
    max_tables_per_database: int = Field(
        10_000,
        ge=1,
        description="Most tables one database holds.",
        validation_alias=_env("max_tables_per_database", "INFLUXDB3_MAX_TABLES_PER_DATABASE"),
    )
    max_columns_per_table: int = Field(
        1_000,
        ge=2,
        description="Most columns (tags, fields and time) one table holds.",
        validation_alias=_env("max_columns_per_table", "INFLUXDB3_MAX_COLUMNS_PER_TABLE"),
    )
    ingest_workers: int = Field(
        2,
        ge=1,
        le=64,
        description="Number of ingest worker processes (line protocol parsing, WAL).",
        validation_alias=_env("ingest_workers", "INFLUXDB3_INGEST_WORKERS"),
    )
    query_workers: int = Field(
        2,
        ge=1,
        le=64,
        description="Number of query worker processes (DataFusion).",
        validation_alias=_env("query_workers", "INFLUXDB3_QUERY_WORKERS"),
    )
    gateway_query_rows: int = Field(
        20_000,
        ge=0,
        description="The gateway answers an InfluxQL SELECT itself when it reads and makes at "
        "most this many rows without SQL, a series answered counting as 16 (a dashboard panel's "
        "question: sending it to a query worker cost more than answering it); others go to the "
        "query workers. It reads the "
        "buffer the persister shares and Parquet columns it keeps decoded (in a quarter of "
        "--query-file-cache-mb). 0: every query goes to a query worker.",
        validation_alias=_env("gateway_query_rows", "INFLUXDB3_GATEWAY_QUERY_ROWS"),
    )
    persist_window_s: int = Field(
        600,
        ge=1,
        description="Time window of one Parquet file, in seconds (files never span windows).",
        validation_alias=_env("persist_window_s", "INFLUXDB3_PERSIST_WINDOW_S"),
    )
    buffer_mem_limit_mb: int = Field(
        512,
        ge=1,
        description="Buffered data (MiB) that starts a snapshot to Parquet.",
        validation_alias=_env("buffer_mem_limit_mb", "INFLUXDB3_BUFFER_MEM_LIMIT_MB"),
    )
    buffer_mem_ceiling_mb: int = Field(
        2048,
        ge=1,
        description="Buffered data (MiB, including rows being persisted) above which writes "
        "are refused with 503 until persisting catches up.",
        validation_alias=_env("buffer_mem_ceiling_mb", "INFLUXDB3_BUFFER_MEM_CEILING_MB"),
    )
    snapshot_max_age_s: int = Field(
        600,
        ge=1,
        description="A snapshot starts when the oldest buffered row is this old (seconds).",
        validation_alias=_env("snapshot_max_age_s", "INFLUXDB3_SNAPSHOT_MAX_AGE_S"),
    )
    compaction_max_rows: int = Field(
        4_000_000,
        ge=0,
        description="Rows one compacted file may hold: the files of a finished day (else "
        "hour) of a table are joined into one when no more (0 turns compaction off).",
        validation_alias=_env("compaction_max_rows", "INFLUXDB3_COMPACTION_MAX_ROWS"),
    )
    retention_check_interval_s: int = Field(
        1800,
        ge=1,
        description="How often (seconds) files whose rows are all older than their retention "
        "policy's duration are deleted (influxd's [retention] check-interval, 30m).",
        validation_alias=_env("retention_check_interval_s", "INFLUXDB3_RETENTION_CHECK_INTERVAL_S"),
    )
    persist_events_bind: str | None = Field(
        None,
        description="ZeroMQ endpoint the persist-event PUB socket binds (e.g. "
        "tcp://127.0.0.1:8183); default: an ipc:// socket under the data directory.",
        validation_alias=_env("persist_events_bind", "INFLUXDB3_PERSIST_EVENTS_BIND"),
    )
    parquet_cache_mb: int = Field(
        1024,
        ge=1,
        description="Local disk (MiB) each query worker may use to cache Parquet files from "
        "a remote object store.",
        validation_alias=_env("parquet_cache_mb", "INFLUXDB3_PARQUET_CACHE_MB"),
    )
    query_file_cache_mb: int = Field(
        512,
        ge=1,
        description="Memory (MiB) each query worker may use to keep columns of Parquet files "
        "it has read, decoded, for the queries after.",
        validation_alias=_env("query_file_cache_mb", "INFLUXDB3_QUERY_FILE_CACHE_MB"),
    )
    buffer_share_dir: str = Field(
        "/dev/shm",
        description="A memory file system (tmpfs) where the persister shares the buffer with "
        "the query workers, which then read buffered rows without asking it; about as much "
        "room as the buffer is needed. `off`: the workers ask the persister for them.",
        validation_alias=_env("buffer_share_dir", "INFLUXDB3_BUFFER_SHARE_DIR"),
    )
    wal_disable: bool = Field(
        False,
        description="Acknowledge writes from memory without a write-ahead log: a crash loses "
        "what was written since the last snapshot.",
        validation_alias=_env("wal_disable", "INFLUXDB3_WAL_DISABLE"),
    )
    request_timeout_ms: int = Field(
        30_000,
        ge=100,
        description="How long the gateway waits for a worker's answer before replying 503; "
        "a query past it is stopped in its worker.",
        validation_alias=_env("request_timeout_ms", "INFLUXDB3_REQUEST_TIMEOUT_MS"),
    )
    bearer_token: str | None = Field(
        None,
        description="SHA-512 hex of the admin token (see `influxdb3 create token`); when set, "
        "every request must carry a valid token.",
        validation_alias=_env("bearer_token", "INFLUXDB3_BEARER_TOKEN"),
    )
    disable_authz: str = Field(
        "",
        description="Comma-separated endpoints answered without a token: health, ping, metrics.",
        validation_alias=_env("disable_authz", "INFLUXDB3_DISABLE_AUTHZ"),
    )
    auth_max_failures: int = Field(
        20,
        ge=1,
        description="Failed authentications one client may make per window before it gets 429.",
        validation_alias=_env("auth_max_failures", "INFLUXDB3_AUTH_MAX_FAILURES"),
    )
    auth_failure_window_s: int = Field(
        60,
        ge=1,
        description="The window, in seconds, over which failed authentications are counted.",
        validation_alias=_env("auth_failure_window_s", "INFLUXDB3_AUTH_FAILURE_WINDOW_S"),
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info",
        description="Log level of every process.",
        validation_alias=_env("log_level", "INFLUXDB3_LOG_LEVEL", "LOG_FILTER"),
    )

    @field_validator("http_bind", "flight_bind")
    @classmethod
    def _check_bind(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"expected host:port, got {value!r}")
        return value

    @field_validator("bearer_token")
    @classmethod
    def _check_token_hash(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip().lower()
        if len(value) != 128 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError(
                "the bearer token must be given as its SHA-512 hex (128 characters);"
                " `influxdb3 create token` prints it"
            )
        return value

    @field_validator("disable_authz")
    @classmethod
    def _check_exempt(cls, value: str) -> str:
        names = [v.strip() for v in value.split(",") if v.strip()]
        unknown = set(names) - {"health", "ping", "metrics"}
        if unknown:
            raise ValueError(f"--disable-authz takes health, ping, metrics; not {sorted(unknown)}")
        return ",".join(names)

    @model_validator(mode="after")
    def _check_s3(self) -> Settings:
        if self.object_store != "s3":
            return self
        if not self.bucket:
            raise ValueError("--object-store s3 needs --bucket (INFLUXDB3_BUCKET)")
        if (self.aws_access_key_id is None) != (self.aws_secret_access_key is None):
            raise ValueError(
                "--aws-access-key-id and --aws-secret-access-key must be given together"
            )
        if (
            self.aws_endpoint is not None
            and self.aws_endpoint.lower().startswith("http://")
            and not self.aws_allow_http
        ):
            raise ValueError(
                f"--aws-endpoint {self.aws_endpoint} is plain http; pass --aws-allow-http"
                " (INFLUXDB3_AWS_ALLOW_HTTP=true) to allow it"
            )
        return self

    @property
    def exempt_endpoints(self) -> set[str]:
        return {v for v in self.disable_authz.split(",") if v}

    @property
    def http_host(self) -> str:
        return self.http_bind.rpartition(":")[0].strip("[]")

    @property
    def http_port(self) -> int:
        return int(self.http_bind.rpartition(":")[2])

    def to_env(self) -> dict[str, str]:
        """Environment variables that make a child process load exactly these settings."""
        env: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            alias = field.validation_alias
            assert isinstance(alias, AliasChoices)
            key = next(str(c) for c in alias.choices if str(c).startswith("INFLUXDB3_"))
            value = getattr(self, name)
            if value is not None:
                env[key] = str(value)
        return env

    @classmethod
    def env_names(cls, name: str) -> list[str]:
        """The environment variables that set field ``name``, preferred first."""
        alias = cls.model_fields[name].validation_alias
        assert isinstance(alias, AliasChoices)
        return [str(c) for c in alias.choices if str(c).isupper()]
