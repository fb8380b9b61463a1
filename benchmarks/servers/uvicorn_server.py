"""Benchmark server on uvicorn + Starlette, the ASGI peer.

uvicorn runs with its httptools parser and, for WebSockets, the
``websockets`` implementation; the event loop is the one ``--loop`` names
(asyncio's own, or uvloop).  Only the workloads uvicorn is compared on are
served: hello, JSON and WebSocket echo.
"""

import asyncio

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from _common import HELLO, JSON_DOC, parse_args, raise_fd_limit, ready, run


async def hello(request) -> PlainTextResponse:
    return PlainTextResponse(HELLO)


async def json_doc(request) -> JSONResponse:
    return JSONResponse(JSON_DOC)


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            elif message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:
        return


ROUTES = {
    "hello": [Route("/", hello)],
    "json": [Route("/json", json_doc)],
    "wsecho": [WebSocketRoute("/ws", echo)],
}


async def main(args) -> None:
    raise_fd_limit()
    if args.workload not in ROUTES:
        raise SystemExit(f"uvicorn_server: no {args.workload} workload")
    app = Starlette(routes=ROUTES[args.workload])
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, http="httptools",
                            ws="websockets-sansio", loop="none", lifespan="off",
                            log_level="warning", access_log=False, backlog=1024)
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            raise SystemExit("uvicorn_server: the server stopped before it started")
        await asyncio.sleep(0.01)
    ready()
    await serving


if __name__ == "__main__":
    ARGS = parse_args()
    run(main(ARGS), ARGS.loop)
