"""The baseline every orderlink figure is divided by: the least a server can do for deleteByFilter.

A hand-written ASGI app, no framework, stdlib sqlite3, one connection: look up the webhook by its
code, validate the three integers, delete and re-insert the binding in one transaction, answer
the envelope with a full `time` object. Same database file layout, same PRAGMAs, same uvicorn.

    python bench/baseline.py --database sqlite:///bench.db --port 8090
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import uvicorn


def create(path: str) -> Any:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 10000")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        start = time.time()
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status = 400
        payload: dict[str, Any] = {"error": "0", "error_description": "bad request"}
        parts = scope["path"].split("/")  # /rest/{user}/{code}/{method}
        row = None
        if len(parts) == 5:
            digest = hashlib.sha256(parts[3].encode()).hexdigest()
            row = conn.execute(
                "SELECT portal_id FROM webhooks WHERE user_id = ? AND code_hash = ? AND active = 1",
                (int(parts[2]), digest),
            ).fetchone()
        if row is None:
            status, payload = 401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong auth"}
        else:
            fields = orjson.loads(body).get("fields", {})
            values = [fields.get(k) for k in ("orderId", "ownerTypeId", "ownerId")]
            if all(isinstance(v, int) for v in values):
                order_id, owner_type, owner_id = values
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "DELETE FROM bindings WHERE portal_id = ? AND order_id = ? "
                    "AND owner_type_id = ? AND owner_id = ?",
                    (row[0], order_id, owner_type, owner_id),
                )
                conn.execute(
                    "INSERT INTO bindings (portal_id, order_id, owner_type_id, owner_id) "
                    "VALUES (?, ?, ?, ?)",
                    (row[0], order_id, owner_type, owner_id),
                )
                conn.execute("COMMIT")
                finish = time.time()
                status = 200
                payload = {
                    "result": True,
                    "time": {
                        "start": start,
                        "finish": finish,
                        "duration": finish - start,
                        "processing": finish - start,
                        "date_start": datetime.fromtimestamp(start, UTC).isoformat(
                            timespec="seconds"
                        ),
                        "date_finish": datetime.fromtimestamp(finish, UTC).isoformat(
                            timespec="seconds"
                        ),
                        "operating_reset_at": int(start) + 600,
                        "operating": 0,
                    },
                }
        data = orjson.dumps(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(data)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    path = args.database.removeprefix("sqlite:///")
    uvicorn.run(
        create(path), host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
        server_header=False,
    )  # fmt: skip


if __name__ == "__main__":
    main()
