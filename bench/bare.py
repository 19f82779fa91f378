"""The limits beside the HTTP benchmarks: a bare ASGI app on the same HTTP server as `bascule serve`.

`POST /ussd` parses the same form as Bascule's callback and answers a fixed `CON` screen;
`POST /echo` answers fixed JSON (the load client's own ceiling is measured against it).
Run: python -m bench.bare PORT [PROCESSES]
"""

from __future__ import annotations

import sys
from urllib.parse import parse_qsl

MENU = (
    "CON Gamme mobile #121#\n1 Changer de profil\n2 Mon profil et mes bonus\n3 Mon solde\n4 Découvrir les profils"
).encode()
ECHO = b'{"id":"chr_0","status":"awaiting_confirmation"}'


async def _body(receive):  # type: ignore[no-untyped-def]
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = await _body(receive)
    if scope["path"] == "/ussd":
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        status = 200 if fields.get("sessionId") and fields.get("phoneNumber") else 400
        answer, kind = MENU, b"text/plain; charset=utf-8"
    else:
        status, answer, kind = 200, (ECHO if scope["path"] == "/echo" else b"ok"), b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"content-length", str(len(answer)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": answer})


if __name__ == "__main__":
    import uvicorn

    from bascule.channels.http_protocol import http_protocol

    # The same server and options as `bascule serve --workers N` (uvicorn, its HTTP protocol as Bascule sets it,
    # its default loop, N processes on the port, no access log).
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    uvicorn.run(
        "bench.bare:app",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        http=http_protocol("auto"),
        workers=workers,
        access_log=False,
    )
