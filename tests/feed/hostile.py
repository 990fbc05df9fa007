"""Hostile webhook endpoints, as a process of their own: ``python -m tests.feed.hostile PORT…``.

Each path behaves badly in its own way, on one asyncio server on 127.0.0.1:

- ``/trickle``: reads the request, then sends its answer one byte a second, forever;
- ``/hang``: reads the request and never answers;
- ``/huge``: answers ``500`` with a 300 MB body, streamed as fast as the client takes it.

It counts requests per path and prints ``ready`` once listening; ``GET /counts`` answers the
counts as JSON (so the test can see that attempts arrived)."""

from __future__ import annotations

import asyncio
import json
import sys

HUGE = 300 * 2**20
CHUNK = b"\0" * 2**16
counts: dict[str, int] = {}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            counts[path] = counts.get(path, 0) + 1
            if method == "GET" and path == "/counts":
                body = json.dumps(counts).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
                continue
            if path.startswith("/trickle"):
                answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
                while True:  # one byte a second, round and round: the status line never ends
                    for byte in answer:
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(1)
            elif path.startswith("/hang"):
                await asyncio.Event().wait()
            elif path.startswith("/huge"):
                writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: %d\r\n\r\n" % HUGE)
                sent = 0
                while sent < HUGE:
                    writer.write(CHUNK)
                    await writer.drain()
                    sent += len(CHUNK)
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
    except (OSError, asyncio.IncompleteReadError, ValueError):
        pass  # the client gave up: that is the point
    finally:
        writer.close()


async def main(ports: list[int]) -> None:
    servers = [await asyncio.start_server(handle, "127.0.0.1", port) for port in ports]
    print("ready", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    asyncio.run(main([int(port) for port in sys.argv[1:]]))
