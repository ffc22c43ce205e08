"""migrate function (filled in by its issue)."""

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 501, "body": '{"error": {"code": "not_implemented", "message": "not implemented"}}'}
