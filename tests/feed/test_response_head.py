"""The sender reads an answer's head with its own parse (`webhooks.Headers`) instead of
``http.client``'s ``email.parser``: both must read the same fields."""

from __future__ import annotations

import http.client
import io

from hypothesis import given
from hypothesis import strategies as st

from pars.feed.webhooks import Headers, Response

NAMES = st.sampled_from(["Retry-After", "retry-after", "Connection", "Content-Length", "Transfer-Encoding", "X-A"])
VALUES = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12)
FIELD = st.tuples(NAMES, st.sampled_from([" ", "", "  "]), VALUES, st.sampled_from(["", " "]))


@given(st.lists(FIELD, max_size=8), st.booleans())
def test_headers_read_as_email_parser_reads_them(fields: list[tuple[str, str, str, str]], fold: bool) -> None:
    lines = [f"{name}:{space}{value}{trail}\r\n".encode() for name, space, value, trail in fields]
    if fold and lines:
        lines.insert(1, b"  continued\r\n")
    head = b"".join(lines) + b"\r\n"
    theirs = http.client.parse_headers(io.BytesIO(head))
    ours = Headers(lines)
    for name in ("retry-after", "Connection", "content-length", "transfer-encoding", "x-a", "absent"):
        expected = theirs.get_all(name)
        got = ours.get_all(name)
        assert (got is None) == (expected is None)
        if expected is not None and got is not None:
            assert [" ".join(v.split()) for v in got] == [" ".join(v.split()) for v in expected]


class _Socket:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self._data))


@given(
    st.sampled_from([200, 204, 410, 429, 503]),
    st.sampled_from(["content-length", "chunked", "close", "none", "-1", "ten", "continue"]),
    st.binary(max_size=40),
    st.sampled_from(["HTTP/1.1", "HTTP/1.0"]),
)
def test_a_response_begins_as_http_client_begins_it(status: int, framing: str, body: bytes, version: str) -> None:
    head = f"{version} {status} X\r\nRetry-After: 7\r\n"
    if framing == "content-length":
        head += f"Content-Length: {len(body)}\r\n"
        payload = body
    elif framing == "chunked":
        head += "Transfer-Encoding: chunked\r\n"
        payload = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    elif framing == "close":
        head += "Connection: close\r\n"
        payload = body
    elif framing in ("-1", "ten"):
        head += f"Content-Length: {framing}\r\n"
        payload = body
    elif framing == "continue":  # an interim 100 first, its own head skipped
        head = f"{version} 100 Continue\r\nX-A: 1\r\n\r\n{head}Content-Length: {len(body)}\r\n"
        payload = body
    else:
        payload = body
    raw = head.encode() + b"\r\n" + payload
    answers = []
    for kind in (http.client.HTTPResponse, Response):
        response = kind(_Socket(raw), method="POST")  # type: ignore[arg-type]
        response.begin()
        answers.append(
            (response.status, response.getheader("retry-after"), response.will_close, response.length,
             response.read(1000), response.isclosed())
        )  # fmt: skip
    assert answers[0] == answers[1]
