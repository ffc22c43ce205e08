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
POWERTOOLS = "from aws_lambda_powertools import Logger, Metrics; Logger(service='x'); Metrics(service='x')"
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
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(AWS_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "layers" / "common"), str(REPO / "functions" / function)])
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(body=body)],
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
    return results
