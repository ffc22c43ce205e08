"""In AWS the webhook function never loads psycopg or httpx (cold start): checked in a fresh interpreter that
imports the handler with the AWS settings and serves signed deliveries through Secrets Manager and SQS (moto)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

SCRIPT = r"""
import json, sys, time
import webhook.app as app
loaded_at_import = sorted(m for m in ("psycopg", "httpx", "boto3") if m in sys.modules)

from moto import mock_aws
import boto3
from tests.fixtures.chatwoot_payloads import load_fixture, raw_body, webhook_headers
from tests.unit.ingest.support import LambdaContextStub, http_event

with mock_aws():
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    boto3.client("secretsmanager").create_secret(
        Name="cw/7", SecretString=json.dumps({"api_token": "t", "webhook_secret": "s3cret", "account_id": 3})
    )
    import os
    os.environ["INGEST_QUEUE_URL"] = queue_url
    body = raw_body(load_fixture("conversation_created"))
    good = app.lambda_handler(
        http_event(body, webhook_headers(body, "s3cret", int(time.time())), integration_id=7), LambdaContextStub()
    )
    forged = app.lambda_handler(
        http_event(body, webhook_headers(body, "nope", int(time.time())), integration_id=7), LambdaContextStub()
    )
    queued = len(sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []))

print(json.dumps({
    "loaded_at_import": loaded_at_import,
    "loaded_after_requests": sorted(m for m in ("psycopg", "httpx") if m in sys.modules),
    "statuses": [good["statusCode"], forged["statusCode"]],
    "queued": queued,
}))
"""


def test_the_webhook_function_serves_deliveries_without_loading_psycopg_or_httpx() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATABASE_", "DB_"))},
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("layers/common", ".", "functions")),
        "SECRETS_BACKEND": "secretsmanager",
        "INTEGRATION_SECRETS_PREFIX": "cw/",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }

    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome == {"loaded_at_import": [], "loaded_after_requests": [], "statuses": [202, 401], "queued": 1}
