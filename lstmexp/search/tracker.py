"""One quick look at the MLflow tracking URI before the first trial of `--log-to mlflow`.

MLflow's own client retries a tracker that does not answer for minutes, with backoff and no word, so
a wrong or stopped one would look like a hung search. This asks once, with a short timeout and no
retries: an HTTP GET of the server's health endpoint, a TCP connection to a database server, the
scheme against the ones MLflow can store runs in. Any failure is one line naming the URI (password
masked) and the fix.
"""

from __future__ import annotations

import socket
from importlib.metadata import entry_points
from urllib.parse import urlsplit

from lstmexp.errors import LstmexpError
from lstmexp.storage.urls import mask_url

CHECK_SECONDS = 3.0
HTTP_SCHEMES = ("http", "https")
DATABASE_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}
# What MLflow stores tracking data in, besides plugins (the `mlflow.tracking_store` entry points).
LOCAL_SCHEMES = ("sqlite", "file", "databricks")
SUPPORTED = "http(s)://HOST:PORT, sqlite:///FILE, postgresql://, mysql://, mssql://, file:///FOLDER or databricks"
# A status MLflow's client would retry with backoff: the server is there but not serving.
RETRIED_STATUSES = {429, 500, 502, 503, 504}


def check_tracker(uri: str, default: str) -> None:
    """Refuse, in one line, a tracking URI MLflow cannot use or that does not answer within a few seconds."""
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else ""  # `databricks`, a plain path: none
    base = scheme.split("+")[0]  # postgresql+psycopg2 is PostgreSQL
    if base in HTTP_SCHEMES:
        check_http(uri, default)
    elif base in DATABASE_PORTS:
        check_database(uri, base, default)
    elif scheme and base not in LOCAL_SCHEMES and base not in plugin_schemes():
        raise LstmexpError(f"MLFLOW_TRACKING_URI {mask_url(uri)} has a scheme MLflow cannot track in ({scheme}://); "
                           f"use {SUPPORTED}, or {fixes(default)}")


def check_http(uri: str, default: str) -> None:
    """GET <uri>/health once: any answer but a 'not serving' status means a server is there."""
    import requests  # mlflow's own HTTP client: credentials in the URI are sent the same way

    health = uri.rstrip("/") + "/health"
    try:
        answer = requests.get(health, timeout=CHECK_SECONDS, allow_redirects=True)
    except requests.exceptions.SSLError:
        raise not_answering(uri, "its TLS handshake failed", default) from None
    except requests.exceptions.Timeout:
        raise not_answering(uri, f"no answer within {CHECK_SECONDS:g} s", default) from None
    except (requests.exceptions.RequestException, ValueError):
        raise not_answering(uri, "connection refused or host unreachable", default) from None
    if answer.status_code in RETRIED_STATUSES:
        raise not_answering(uri, f"it answers HTTP {answer.status_code}", default)


def check_database(uri: str, dialect: str, default: str) -> None:
    """A TCP connection to the database server MLflow would store its runs in (drivers may wait minutes)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(uri)
    except Exception:  # sqlalchemy's ArgumentError and friends: the URI does not parse
        raise LstmexpError(f"MLFLOW_TRACKING_URI {mask_url(uri)} is not a database URL; {fixes(default)}") from None
    if not parsed.host:  # a local socket: nothing to reach over TCP, the driver will say
        return
    try:
        with socket.create_connection((parsed.host, parsed.port or DATABASE_PORTS[dialect]), timeout=CHECK_SECONDS):
            pass
    except TimeoutError:
        raise not_answering(uri, f"no answer within {CHECK_SECONDS:g} s", default) from None
    except OSError as exc:
        raise not_answering(uri, (exc.strerror or type(exc).__name__).lower(), default) from None


def plugin_schemes() -> set[str]:
    """Schemes that installed MLflow plugins add (MLflow reads the same entry points)."""
    return {entry.name for entry in entry_points(group="mlflow.tracking_store")}


def not_answering(uri: str, why: str, default: str) -> LstmexpError:
    return LstmexpError(f"MLflow tracker {mask_url(uri)} (MLFLOW_TRACKING_URI) does not answer ({why}); "
                        f"start the server, or {fixes(default)}")


def fixes(default: str) -> str:
    return f"unset MLFLOW_TRACKING_URI to log to {default}, or drop --log-to mlflow"
