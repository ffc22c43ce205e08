"""Cold start: each function's handler module imported (and initialised) in a fresh interpreter, against the
import time of the third-party packages it cannot do without, measured the same way in the same run.

The environment is the one the template gives the function in AWS (Secrets Manager backend, queue URL, RDS
Proxy host), so the measured import path is the deployed one. Each figure is the median of several fresh
interpreters. Also checked: what each function must NOT load at import (the webhook function needs neither
psycopg nor httpx nor boto3 before its first request).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from functools import cache
from pathlib import Path

from .harness import BenchContext, Result

REPO = Path(__file__).resolve().parents[1]
RUNS = 15

AWS_ENV = {
    "AWS_REGION": "sa-east-1",
    "AWS_DEFAULT_REGION": "sa-east-1",
    "POWERTOOLS_SERVICE_NAME": "chatwoot-integration",
    "POWERTOOLS_METRICS_NAMESPACE": "ChatwootIntegration",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "SECRETS_BACKEND": "secretsmanager",
    "INTEGRATION_SECRETS_PREFIX": "chatwoot-integration/",
    "INGEST_QUEUE_URL": "https://sqs.sa-east-1.amazonaws.com/123456789012/ingest",
    "DB_HOST": "proxy.example.internal",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:sa-east-1:123456789012:secret:db",
    "EVENT_BUS_NAME": "chatwoot-changes",
}

# The third-party packages each function needs to serve its requests (boto3 for SQS, Secrets Manager and
# EventBridge; psycopg for the database; httpx for Chatwoot). The measured side imports the handler AND these,
# so a package the handler only imports on its first request is counted all the same: the difference between
# the two figures is this project's own code and initialisation.
# Using a package is part of its cost: Powertools' logger and metrics are instantiated, and pydantic builds
# its machinery on the first model class (its import alone is lazy).
POWERTOOLS = (
    "from aws_lambda_powertools import Logger, Metrics, Tracer; "
    "Logger(service='x'); Metrics(service='x'); Tracer(service='x', auto_patch=False)"
)
PYDANTIC = "import pydantic\nclass _First(pydantic.BaseModel):\n    x: int"
BASELINES: dict[str, list[str]] = {
    "webhook": [
        POWERTOOLS,
        "from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2",
        PYDANTIC,
        "import boto3",
    ],
    "processor": [
        POWERTOOLS,
        "from aws_lambda_powertools.utilities.batch import BatchProcessor",
        PYDANTIC,
        "import psycopg",
        "import httpx",
        "import boto3",
    ],
    "api": [
        POWERTOOLS,
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver",
        "APIGatewayHttpResolver(enable_validation=True)",
        PYDANTIC,
        "import psycopg",
        "import httpx",
        "import boto3",
    ],
    "sync": [POWERTOOLS, PYDANTIC, "import psycopg", "import httpx", "import boto3"],
    "migrate": [POWERTOOLS, PYDANTIC, "import psycopg", "import boto3"],
}
MUST_NOT_LOAD = {"webhook": ["psycopg", "httpx"]}

_PROBE = """
import json, sys, time
started = time.perf_counter()
{body}
elapsed = time.perf_counter() - started
print(json.dumps({{"seconds": elapsed, "modules": sorted({{m.split(".")[0] for m in sys.modules}})}}))
"""


@cache
def lambda_python() -> str:
    """A Python with exactly what a function has in AWS: the layer's requirements plus the runtime's boto3.

    The development environment holds more (test tools), and some packages import optional extras when they
    find them (httpx loads its command-line interface when ``rich`` is installed), which would distort both
    sides of the comparison.
    """
    venv = Path(os.environ.get("LOCAL_STATE_DIR", REPO / ".local")) / "lambda-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    wanted = (REPO / "layers" / "common" / "requirements.txt").read_text() + _boto3_pin()
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                str(REPO / "layers" / "common" / "requirements.txt"),
                _boto3_pin().strip(),
            ],
            check=True,
        )
        stamp.write_text(wanted)
    return str(python)


def _boto3_pin() -> str:
    for line in (REPO / "requirements-dev.txt").read_text().splitlines():
        if line.startswith("boto3=="):
            return line + "\n"
    raise RuntimeError("requirements-dev.txt pins no boto3")


def _fresh(body: str, function: str) -> dict[str, object]:
    return _run(_PROBE.format(body=body), function)


def _run(script: str, function: str) -> dict[str, object]:
    """Run ``script`` in a fresh interpreter with the function's AWS environment; its last line is JSON."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(AWS_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "layers" / "common"), str(REPO / "functions" / function)])
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    out = subprocess.run(
        [lambda_python(), "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO / "functions" / function,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _paired(baseline: str, handler: str, function: str) -> tuple[float, float, float]:
    """Alternate baseline and handler interpreters (so drift in machine load hits both alike); return the
    median baseline, median handler time, and the median of the per-pair ratios."""
    _fresh(baseline, function)  # warm the bytecode cache, as a deployed package ships compiled files
    _fresh(handler, function)
    pairs = []
    for _ in range(RUNS):
        base = float(_fresh(baseline, function)["seconds"])  # type: ignore[arg-type]
        mine = float(_fresh(handler, function)["seconds"])  # type: ignore[arg-type]
        pairs.append((base, mine))
    return (
        statistics.median(b for b, _ in pairs),
        statistics.median(m for _, m in pairs),
        statistics.median(m / b for b, m in pairs),
    )


# The webhook function's first and second request after its cold start, on its deployed code path (verify, queue)
# with the AWS clients replaced by in-memory ones: what deferring schema building costs the first request.
_WEBHOOK_REQUESTS = """
import hashlib, hmac, json, time
started = time.perf_counter()
import app
from chatwoot_integration.ingest.queue import MemoryIngestQueue
from chatwoot_integration.secrets import IntegrationSecret
imported = time.perf_counter() - started

class Store:
    def load(self, integration_id, uow=None):
        return IntegrationSecret(api_token="t", webhook_secret="s", account_id=1)

# The deployed graph, with the two AWS clients replaced: the secret store and the queue.
app.components.configure(secret_store=Store(), ingest_queue=MemoryIngestQueue())
body = b'{"event": "conversation_created", "id": 1, "account": {"id": 1}}'
ts = str(int(time.time()))
signature = "sha256=" + hmac.new(b"s", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
event = {"version": "2.0", "routeKey": "POST /webhooks/chatwoot/{integration_id}", "rawPath": "/webhooks/chatwoot/1",
         "rawQueryString": "", "pathParameters": {"integration_id": "1"}, "isBase64Encoded": False,
         "headers": {"x-chatwoot-timestamp": ts, "x-chatwoot-signature": signature, "x-chatwoot-delivery": "d1"},
         "requestContext": {"http": {"method": "POST", "path": "/webhooks/chatwoot/1", "sourceIp": "1.1.1.1"}},
         "body": body.decode()}

class Context:
    function_name = "webhook"; memory_limit_in_mb = 256; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:sa-east-1:123456789012:function:webhook"
    def get_remaining_time_in_millis(self): return 5000

import contextlib, io
times = []
for _ in range(2):
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        response = app.lambda_handler(event, Context())
    times.append(time.perf_counter() - t)
    assert response["statusCode"] == 202, response
print(json.dumps({"seconds": imported, "first": times[0], "second": times[1], "modules": []}))
"""


def run(ctx: BenchContext) -> list[Result]:
    results: list[Result] = []
    for function, imports in BASELINES.items():
        measured = "\n".join(["import app", *(i for i in imports if i != PYDANTIC)])
        baseline, handler, ratio = _paired("\n".join(imports), measured, function)
        results.append(
            Result(
                f"cold start [{function}] import+init vs its dependencies",
                handler * 1000,
                "ms",
                limit=baseline * 1000,
                ratio=ratio,
                target="<= 1.15",
                ok=ratio <= 1.15,
            )
        )
        forbidden = MUST_NOT_LOAD.get(function, [])
        if forbidden:
            loaded = set(_fresh("import app", function)["modules"])  # type: ignore[arg-type]
            for name in forbidden:
                results.append(
                    Result(
                        f"cold start [{function}] does not load {name}",
                        0.0 if name in loaded else 1.0,
                        "bool",
                        ok=name not in loaded,
                    )
                )
    requests = [_run(_WEBHOOK_REQUESTS, "webhook") for _ in range(RUNS)]
    first = statistics.median(float(r["first"]) for r in requests)  # type: ignore[arg-type]
    second = statistics.median(float(r["second"]) for r in requests)  # type: ignore[arg-type]
    results.append(Result("cold start [webhook] first request after import", first * 1000, "ms"))
    results.append(Result("cold start [webhook] second request", second * 1000, "ms"))
    return results
