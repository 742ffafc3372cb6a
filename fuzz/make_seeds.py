#!/usr/bin/env python3
"""Writes the committed seed corpora in fuzz/corpus/<target>/.

Seeds are plain files; this script only keeps them reviewable and
reproducible (run it after changing a vector; it rewrites the seeds it owns,
named seed-*, and leaves any other file, such as merged inputs, alone).
Input layouts are described at the top of each fuzz/<target>_fuzz.cc.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- http_request_reader: [limits byte][split byte][stream] ----------------
# limits byte: bits 0-1 header limit {16 KiB, 64, 200, 1024},
#              bits 2-3 body limit {1 MiB, 0, 100, 1000} (tests use 1024/100)
DEFAULT, TEST_LIMITS, BAD_INPUT_LIMITS = 0x00, 0x03 | (2 << 2), 0x03 | (3 << 2)

H = "Host: a\r\n"


def post(target, headers, body=""):
    return f"POST {target} HTTP/1.1\r\n{H}{headers}\r\n{body}"


def chunked(body):
    return post("/x", "Transfer-Encoding: chunked\r\n", body)


SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
EVENT = json.dumps({"event_id": "ev-1", "event_type": "chat_message", "room_id": "r-1",
                    "user_id": 7, "payload": {"text": "hi"}}, separators=(",", ":"))

REQUEST_SEEDS = {
    # accepted shapes (tests/core/http_request_reader_test.cc)
    "get-query": "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Test:  value  \r\n\r\n",
    "pipelined": "POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                 "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
    "chunked-trailer": "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: dropped\r\n\r\n",
    "chunked-ext": chunked("5;name=value;q=\"a b\"\r\nhello\r\n0\r\n\r\n"),
    "leading-empty-lines": "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "expect-continue": post("/", "Expect: 100-continue\r\nContent-Length: 2\r\n", "hi"),
    "http10": "GET / HTTP/1.0\r\n\r\n",
    "http10-keepalive": "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "connection-close": "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "options-star": "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "head": "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n",
    "event": post("/internal/broadcast/chat",
                  f"Content-Type: application/json\r\nContent-Length: {len(EVENT)}\r\n", EVENT),
    "event-chunked": chunked(f"{len(EVENT):x}\r\n{EVENT}\r\n0\r\n\r\n"),
    # rejections (tests/core/http_request_reader_test.cc, tests/proxy/bad_input_integration_test.cc)
    "smuggling-crlf-cr": "GET /x HTTP/1.1\r\nHost: a\r\n\rXGET /smuggled HTTP/1.1\r\n\r\n",
    "smuggling-crlf-cr-host": "GET /x HTTP/1.1\r\nHost: a\r\n\rX" + SMUGGLED,
    "bare-cr-in-value": "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
    "bare-cr-value-header": "GET /x HTTP/1.1\r\nHost: a\rX: y\r\n\r\n",
    "bare-cr-request-line": "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
    "bare-lf-line-end": "GET / HTTP/1.1\nHost: a\r\n\r\n",
    "bare-lf-only": "GET /x HTTP/1.1\nHost: a\n\n",
    "obs-fold-content-length": post("/", "X: 1\r\n Content-Length: 5\r\n", "hello"),
    "obs-fold-tab": "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tmore\r\n\r\n",
    "obs-fold-split": "GET / HTTP/1.1\r\nHost: a\r\n Content-Length: 5\r\n\r\n",
    "nul-byte": "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n",
    "cl-and-te": post("/", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
    "te-and-cl": post("/", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n"),
    "te-gzip-chunked": post("/", "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
    "te-twice": post("/", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                     "0\r\n\r\n"),
    "te-chunked-chunked": post("/", "Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
    "te-identity": post("/", "Transfer-Encoding: identity\r\n"),
    "te-case": post("/", "Transfer-Encoding: CHUNKED\r\n", "0\r\n\r\n"),
    "duplicate-cl": post("/", "Content-Length: 1\r\nContent-Length: 1\r\n", "a"),
    "duplicate-cl-list": post("/", "Content-Length: 1, 1\r\n", "a"),
    "bad-cl": post("/", "Content-Length: 1x\r\n", "a"),
    "cl-plus": post("/", "Content-Length: +1\r\n", "a"),
    "cl-space-before-colon": post("/", "Content-Length : 5\r\n", "hello"),
    "bad-chunk-size": chunked("zz\r\nhello\r\n0\r\n\r\n"),
    "bad-chunk-size-xyz": chunked("xyz\r\nab\r\n0\r\n\r\n"),
    "garbage": "HELLO\r\n\r\n",
    "not-http": "NOT HTTP AT ALL\r\n\r\n",
    "bad-method": "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
    "bad-version": "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
    "version-09": "GET / HTTP/0.9\r\nHost: a\r\n\r\n",
    "version-20": "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    "target-tab": "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n",
    "target-tab-version": "GET /a\tHTTP/1.1\r\nHost: a\r\n\r\n",
    "target-high-bytes": "GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n",
    "method-two-spaces": "GET  /x HTTP/1.1\r\nHost: a\r\n\r\n",
    "version-none": post("/x", "Content-Length: 2\r\n", "hi").replace(" HTTP/1.1", "", 1),
    "space-in-header-name": "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
    "empty-header-name": "GET / HTTP/1.1\r\nHost: a\r\n: y\r\n\r\n",
    "missing-host": "GET / HTTP/1.1\r\nX: y\r\n\r\n",
    "two-hosts": "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "absolute-form": "GET http://evil/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "te-in-http10": "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "connect": "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",
    "expect-other": post("/", "Expect: 200-ok\r\nContent-Length: 1\r\n", "a"),
    "too-many-empty-lines": "\r\n" * 9 + "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    # chunk framing (issue 14)
    "chunk-data-not-crlf": chunked("5\r\nhelloXX0\r\n\r\n"),
    "chunk-data-bare-lf": chunked("5\r\nhello\nc0\r\n\r\n" + SMUGGLED),
    "chunk-ext-long": chunked("5;a" + "b" * 2000 + "\r\nhello\r\n0\r\n\r\n"),
    "chunk-ext-bare-cr": chunked("5;a\rb\r\nhello\r\n0\r\n\r\n"),
    "chunk-ext-bare-lf": chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"),
    "chunk-size-bare-lf": chunked("5\nhello\r\n0\r\n\r\n"),
    "chunk-size-bare-cr": chunked("5\rXhello\r\n0\r\n\r\n"),
    "last-chunk-bare-cr": chunked("0\rX-Trailer: 1\r\n\r\n"),
    "chunk-size-space": chunked("5 \r\nhello\r\n0\r\n\r\n"),
    "chunk-size-0x": chunked("0x5\r\nhello\r\n0\r\n\r\n"),
    "chunk-size-negative": chunked("-1\r\nhello\r\n0\r\n\r\n"),
    "chunk-size-overflow": chunked("1" + "0" * 16 + "5\r\nhello\r\n0\r\n\r\n"),
    "chunk-data-cr-cr-lf": chunked("5\r\nhello\r\r\n0\r\n\r\n"),
    "trailer-crlf-cr": chunked("0\r\nX: a\r\n\rX" + SMUGGLED),
    "trailer-cr-only": chunked("0\r\n\rX" + SMUGGLED),
    "trailer-obs-fold": chunked("0\r\nX: a\r\n Content-Length: 5\r\n\r\n"),
    "trailer-bare-lf": chunked("0\r\nX: a\n\r\n" + SMUGGLED),
    "last-chunk-bare-lf": chunked("0\n\r\n" + SMUGGLED),
}

# (limits, split) per seed; the fuzzer mutates both bytes.
LIMITED = {"header-too-large": (TEST_LIMITS, "GET / HTTP/1.1\r\nHost: a\r\nX: " + "a" * 2000 +
                                "\r\n\r\n"),
           "header-too-large-unterminated": (TEST_LIMITS, "GET / HTTP/1.1\r\nX: " + "a" * 2000),
           "body-too-large-cl": (TEST_LIMITS, post("/", "Content-Length: 101\r\n")),
           "body-too-large-chunked": (TEST_LIMITS, chunked("65\r\n" + "a" * 101 + "\r\n0\r\n\r\n")),
           "bad-input-body-too-large": (BAD_INPUT_LIMITS, post("/x", "Content-Length: 1001\r\n")),
           "bad-input-chunked-too-large": (BAD_INPUT_LIMITS,
                                           chunked("3e9\r\n" + "c" * 1001 + "\r\n0\r\n\r\n")),
           "header-exactly-64": (0x01, "GET / HTTP/1.1\r\nHost: a\r\nX: " +
                                 "a" * (64 - 25 - 5 - 2) + "\r\n\r\n")}


def request_reader_seeds():
    out = {}
    for name, stream in REQUEST_SEEDS.items():
        out[name] = bytes([DEFAULT, 0x03]) + stream.encode("latin-1")
    for name, (limits, stream) in LIMITED.items():
        out[name] = bytes([limits, 0x03]) + stream.encode("latin-1")
    out["pipelined-byte-at-a-time"] = bytes([DEFAULT, 0x08]) + REQUEST_SEEDS["pipelined"].encode()
    out["event-whole"] = bytes([DEFAULT, 0x00]) + REQUEST_SEEDS["event"].encode()
    return out


# ---- http_client_response: [flags byte][split byte][what the upstream sends]
# flags bit 0: the request was HEAD; bits 1-2: max_response_bytes {64 MiB, 0, 100, 1000}
def response(status_line, headers, body=""):
    return f"{status_line}\r\n{headers}\r\n{body}"


def chunked_response(body):
    return response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n", body)


RESPONSE_SEEDS = {
    "ok-json": (0, response("HTTP/1.1 200 OK",
                            "Content-Type: application/json\r\nContent-Length: 2\r\n", "{}")),
    "accepted": (0, response("HTTP/1.1 202 Accepted", "Content-Length: 0\r\n")),
    "no-content": (0, response("HTTP/1.1 204 No Content", "")),
    "not-modified": (0, response("HTTP/1.1 304 Not Modified", "Content-Length: 10\r\n")),
    "head": (1, response("HTTP/1.1 200 OK", "Content-Length: 1000\r\n")),
    "continue-then-ok": (0, "HTTP/1.1 100 Continue\r\n\r\n" +
                         response("HTTP/1.1 200 OK", "Content-Length: 3\r\n", "abc")),
    "switching": (0, response("HTTP/1.1 101 Switching Protocols", "Upgrade: x\r\n")),
    "chunked-trailer": (0, chunked_response("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")),
    "eof-delimited": (0, response("HTTP/1.1 200 OK", "Content-Type: text/plain\r\n",
                                  "until the connection closes")),
    "http10": (0, response("HTTP/1.0 200 OK", "Content-Length: 2\r\n", "ok")),
    "keep-alive-trailing": (0, response("HTTP/1.1 200 OK", "Content-Length: 2\r\n", "okEXTRA")),
    "connection-close": (0, response("HTTP/1.1 500 Internal Server Error",
                                     "Connection: close\r\nContent-Length: 5\r\n", "oops!")),
    "no-reason": (0, response("HTTP/1.1 503", "Content-Length: 0\r\n")),
    "error-json": (0, response("HTTP/1.1 400 Bad Request",
                               "Content-Type: application/json\r\nContent-Length: 17\r\n",
                               '{"error":"nope!"}')),
    "too-large-cl": (4, response("HTTP/1.1 200 OK", "Content-Length: 101\r\n", "a" * 101)),
    "too-large-chunked": (4, chunked_response("65\r\n" + "a" * 101 + "\r\n0\r\n\r\n")),
    "cl-leading-zero": (0, response("HTTP/1.1 200 OK", "Content-Length: 05\r\n", "hello")),
    "duplicate-cl": (0, response("HTTP/1.1 200 OK", "Content-Length: 1\r\nContent-Length: 2\r\n",
                                 "ab")),
    "cl-and-te": (0, response("HTTP/1.1 200 OK",
                              "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")),
    "te-gzip-chunked": (0, response("HTTP/1.1 200 OK", "Transfer-Encoding: gzip, chunked\r\n",
                                    "0\r\n\r\n")),
    "obs-fold": (0, response("HTTP/1.1 200 OK", "X: a\r\n Set-Cookie: b\r\nContent-Length: 0\r\n")),
    "bare-lf": (0, "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    "bare-cr": (0, response("HTTP/1.1 200 OK", "X: a\rSet-Cookie: b\r\nContent-Length: 0\r\n")),
    "crlf-cr": (0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\rXHTTP/1.1 200 OK\r\n\r\n"),
    "reason-bare-cr": (0, response("HTTP/1.1 200 OK\rSet-Cookie: a=b", "Content-Length: 0\r\n")),
    "reason-nul": (0, response("HTTP/1.1 200 O\0K", "Content-Length: 0\r\n")),
    "crlf-cr-end": (0, "HTTP/1.1 503\r\nContent-Length: 0\r\n\rz"),
    "status-2000": (0, response("HTTP/1.1 2000 OK", "Content-Length: 0\r\n")),
    "http2": (0, response("HTTP/2.0 200 OK", "Content-Length: 0\r\n")),
    "chunk-data-not-crlf": (0, chunked_response("5\r\nhelloXX0\r\n\r\n")),
    "chunk-ext-long": (0, chunked_response("5;a" + "b" * 2000 + "\r\nhello\r\n0\r\n\r\n")),
    "trailer-crlf-cr": (0, chunked_response("0\r\nX: a\r\n\rX")),
    "empty-name": (0, response("HTTP/1.1 200 OK", ":x\r\nContent-Length: 0\r\n")),
    "leading-empty-lines": (0, "\r\n\n" + response("HTTP/1.1 200 OK", "Content-Length: 2\r\n", "ok")),
    "space-in-name": (0, response("HTTP/1.1 200 OK", "Bad Name: x\r\nContent-Length: 0\r\n")),
    "nul-in-value": (0, response("HTTP/1.1 200 OK", "X: a\0b\r\nContent-Length: 0\r\n")),
    "truncated": (0, response("HTTP/1.1 200 OK", "Content-Length: 10\r\n", "abc")),
    "nothing": (0, ""),
    # A 1xx ends at its empty line whatever it declares (RFC 9112 6.3).
    "interim-declaring-body": (0, "HTTP/1.1 103 Early Hints\r\nContent-Length: 2\r\n\r\n" +
                               response("HTTP/1.1 200 OK", "Content-Length: 2\r\n", "ok")),
    # Two faults in one head (llhttp's, then the pre-scan's): one refusal however it is cut.
    "head-two-faults": (0, response("HTTP/1.1 200 OK", "Content-Length: x\r\n" + "X:\r\n" * 101)),
    # A "next response" after this one: the connection must not be reused.
    "bytes-after-chunked": (0, chunked_response("2\r\nok\r\n0\r\n\r\n") +
                            response("HTTP/1.1 200 OK", "Content-Length: 0\r\n")),
}


def client_response_seeds():
    out = {}
    for name, (flags, stream) in RESPONSE_SEEDS.items():
        out[name] = bytes([flags, 0x03]) + stream.encode("latin-1")
    # Split byte 8: one byte per read.
    out["chunked-byte-at-a-time"] = bytes([0, 0x08]) + RESPONSE_SEEDS["chunked-trailer"][1].encode()
    return out


# ---- event_fields: a request body ------------------------------------------
EVENT_SEEDS = {
    "event": EVENT,
    "tests-strings-numbers": '{"event_type":"chat_message","room_id":42,"user_id":"u\\"1",'
                             '"event_id":"e-1","text":{"deep":[1,2]}}',
    "user-null": '{"event_type":"t","room_id":"r","user_id":null}',
    "missing": '{"room_id":"r"}',
    "array-type": '{"event_type":["a"],"room_id":"r"}',
    "object-type": '{"event_type":{},"room_id":1}',
    "not-object": "[1,2]",
    "string": '"s"',
    "truncated": '{"event_type":',
    "empty": "",
    "not-json": "not json",
    "duplicates": '{"event_id":"a","event_id":"b","room_id":"r","room_id":7}',
    "escapes": '{"event_\\u0069d":"\\u00e9\\ud83d\\ude00\\n","room_id":"\\u0000","event_type":"\\"t\\""}',
    "numbers": '{"room_id":-1.5e+10,"user_id":18446744073709551615,"event_id":0,"event_type":1E2}',
    "whitespace": ' \t\r\n{ "event_type" : "t" , "room_id" : 7 \n}\n ',
    "deep": '{"x":' + "[" * 100 + "]" * 100 + ',"event_type":"t","room_id":"r"}',
    "typing": '{"event_type":"typing_start","room_id":"r-1","user_id":"u-1"}',
    "bad-number": '{"event_type":"t","room_id":1abc}',
    "bad-skipped": '{"event_type":"t","room_id":"r","x":[1,,2]}',
    "bool-user": '{"event_type":"t","room_id":"r","user_id":true}',
}


# ---- routes: "METHOD TARGET" -------------------------------------------------
ROUTE_SEEDS = {
    "chat": "POST /internal/broadcast/chat",
    "chat-query": "POST /internal/broadcast/chat?x=1",
    "typing-room": "POST /internal/rooms/r-42/typing",
    "typing-empty-room": "POST /internal/rooms//typing",
    "ticket-put": "PUT /internal/tickets/9/status",
    "ticket-lowercase": "put /internal/tickets/9/status",
    "twice": "POST /internal/rooms/a/b",
    "e": "POST /e/7",
    "root": "POST /",
    "trailing": "POST /trailing/",
    "empty-segment": "POST /a//b",
    "literal-braces": "POST /{}/x",
    "any": "GET /anything?q=/x/y",
    "deep": "DELETE /a/b/room-9",
    "no-method": "/internal/broadcast/ticket",
    "no-slash": "POST internal/broadcast/chat",
    "query-only": "POST ?/internal/broadcast/chat",
    "star": "OPTIONS *",
    "get-chat": "GET /internal/broadcast/chat",
    "extra": "POST /internal/broadcast/chat/extra",
}


# ---- route_file: a YAML or JSON document ---------------------------------
def route_file_seeds():
    out = {}
    with open(os.path.join(HERE, "data", "routes.yaml"), "rb") as f:
        out["fuzz-routes"] = f.read()
    out["tests-yaml"] = (b"routes:\n  - path: /internal/rooms/{room_id}/typing\n"
                         b"    stream: events:chat\n    event_type: typing_start\n"
                         b"  - method: put\n    path: /internal/tickets/{ticket}/status\n"
                         b"    stream: events:ticket\n")
    out["tests-json"] = b'[{"method":"POST","path":"/e/{room_id}","stream":"events:x"}]'
    out["json-map"] = b'{"routes":[{"path":"/a","stream":"s","event_type":"t"}]}'
    out["unterminated"] = b"routes: ["
    out["no-stream"] = b"routes:\n  - path: /x\n"
    out["relative"] = b"routes:\n  - path: x\n    stream: s\n"
    out["empty-list"] = b"routes: []"
    out["wrong-types"] = b"routes:\n  - path: [1]\n    stream: {a: b}\n    method: [x]\n"
    out["anchors"] = b"routes:\n  - &r {path: /a, stream: s}\n  - *r\n"
    out["tags"] = b"routes:\n  - path: !!str /a\n    stream: !!binary c3RyZWFt\n"
    out["multi-doc"] = b"routes:\n  - {path: /a, stream: s}\n---\nroutes: []\n"
    out["query-in-path"] = b"routes:\n  - path: /a?b\n    stream: s\n"
    return out


# ---- relay_entry: [mode][RESP] or [mode | 1][stream 0xff id 0xff field 0xff value ...]
VALID_FIELDS = ["v", "1", "event_id", "ev-1", "event_type", "chat_message", "room_id", "r-1",
                "ts_ms", "17", "method", "POST", "path", "/x?y=1", "content_type",
                "application/json", "body", '{"a":"\0"}']


def fields_resp(kv):
    return f"*{len(kv)}\r\n" + "".join(bulk(x) for x in kv)


def bulk(x):
    b = x.encode("latin-1") if isinstance(x, str) else x
    return f"${len(b)}\r\n" + b.decode("latin-1") + "\r\n"


def with_field(name, value):
    kv = list(VALID_FIELDS)
    for i in range(0, len(kv), 2):
        if kv[i] == name:
            kv[i + 1] = value
    return kv


def structured(stream, entry_id, kv):
    return bytes([1]) + b"\xff".join(x.encode("latin-1") for x in [stream, entry_id] + kv)


def relay_entry_seeds():
    out = {}
    entry = "*2\r\n" + bulk("1-0") + fields_resp(VALID_FIELDS)
    read_reply = "*1\r\n*2\r\n" + bulk("events:chat") + "*1\r\n" + entry
    out["xreadgroup"] = b"\0" + read_reply.encode("latin-1")
    out["xautoclaim"] = b"\0" + ("*3\r\n" + bulk("0-0") + "*2\r\n" + entry + "*2\r\n" + bulk("2-0") +
                                 "*-1\r\n" + "*1\r\n" + bulk("3-0")).encode("latin-1")
    out["deleted"] = b"\0" + ("*1\r\n*2\r\n" + bulk("events:ticket") + "*1\r\n*2\r\n" + bulk("5-0") +
                              "*-1\r\n").encode("latin-1")
    out["nil"] = b"\0*-1\r\n"
    out["odd-fields"] = b"\0" + ("*1\r\n*2\r\n" + bulk("events:chat") + "*1\r\n*2\r\n" + bulk("1-0") +
                                 "*3\r\n" + bulk("v") + bulk("1") + bulk("x")).encode("latin-1")
    out["valid"] = structured("events:chat", "1-0", VALID_FIELDS)
    out["extra-first"] = structured("events:chat", "1-0", ["later_field", "x"] + VALID_FIELDS)
    out["duplicate-event-id"] = structured("events:chat", "1-0", VALID_FIELDS + ["event_id", "ev-2"])
    out["version-2"] = structured("events:chat", "1-0", ["v", "2", "whatever", "x"])
    out["no-version"] = structured("events:chat", "1-0", ["event_id", "x"])
    variants = {  # one field of a valid entry replaced
        "path-injection": ("path", "/x HTTP/1.1\r\nX-Evil: 1"),
        "path-relative": ("path", "x"),
        "path-space": ("path", "/a b"),
        "path-high-bytes": ("path", "/caf\xe9#frag"),
        "method-space": ("method", "PO ST"),
        "method-head": ("method", "HEAD"),
        "method-unknown": ("method", "BREW"),
        "event-id-crlf": ("event_id", "a\r\nb"),
        "event-id-spaces": ("event_id", " a "),
        "content-type-lf": ("content_type", "a\nb"),
        "content-type-empty": ("content_type", ""),
        "ts-bad": ("ts_ms", "12x"),
        "ts-negative": ("ts_ms", "-9223372036854775808"),
        "room-empty": ("room_id", ""),
    }
    for name, (field, value) in variants.items():
        out[name] = structured("events:chat", "1-0", with_field(field, value))
    return out


# ---- redis_url: the value of REDIS_URL --------------------------------------
REDIS_URL_SEEDS = {
    "localhost": "redis://localhost",
    "full": "redis://app:p%40ss@10.0.0.5:6380/3",
    "password-only": "redis://:secret@h:1/",
    "ipv6": "redis://[::1]:6390",
    "bad-db": "redis://:topsecret@h/99",
    "port-zero": "redis://h:0",
    "empty": "redis://",
    "user-password": "redis://user:pw@host:6379/0",
    "bare-password": "redis://pw@host",
    "bad-port": "redis://:hunter2@h:99999",
    "tls": "rediss://:secret@h:6380",
    "tls-acl": "rediss://app:p%40ss@redis.internal:6380/1",
    "tls-ipv6": "rediss://[::1]",
    "tls-bad-db": "rediss://:topsecret@h/99",
    "tls-triple-s": "redisss://h",
    "at-in-password": "redis://u:p@ss@host:6379",
    "slash-in-password": "redis://:pa/ss@host",
    "colon-in-password": "redis://u:p:w@host",
    "percent": "redis://:%2F%40%3A@host/1",
    "ipv6-auth": "redis://:pw@[::1]:6390/0",
    "no-scheme": "localhost:6379",
    "sentinel": "redis-sentinel://:pw@s1,s2:26380/1#mymaster",
    "sentinel-at-in-name": "rediss-sentinel://:pw@s1#my@master",
    "cluster": "redis-cluster://app:pw@10.0.0.1:7000,[::1],n3:7002/0",
    "cluster-tls": "rediss-cluster://:pw@n1",
    "cluster-db": "redis-cluster://:topsecret@a:1,b:2/3",
    "cluster-empty-seed": "redis-cluster://a,,c",
}


# ---- redis_reply: [split byte][what the server sends] ------------------------
REDIS_REPLY_SEEDS = {
    "ok": "+OK\r\n",
    "error": "-ERR unknown command\r\n",
    "nogroup": "-NOGROUP No such key 'events:chat' or consumer group\r\n",
    "integer": ":1000\r\n",
    "negative": ":-1\r\n",
    "bulk": "$5\r\nhello\r\n",
    "bulk-empty": "$0\r\n\r\n",
    "bulk-nil": "$-1\r\n",
    "array-nil": "*-1\r\n",
    "array-empty": "*0\r\n",
    "nested": "*2\r\n*1\r\n:1\r\n*2\r\n$1\r\na\r\n+b\r\n",
    "deep-8": "*1\r\n" * 8 + ":1\r\n",
    "too-deep": "*1\r\n" * 9 + ":1\r\n",
    "pipelined": "+OK\r\n:1\r\n$3\r\nabc\r\n*1\r\n$1\r\nx\r\n",
    "xreadgroup": "*1\r\n*2\r\n" + bulk("events:chat") + "*1\r\n*2\r\n" + bulk("1-0") +
                  fields_resp(VALID_FIELDS),
    "bad-type": "?x\r\n",
    "bad-length": "$abc\r\n",
    "bulk-short": "$10\r\nabc\r\n",
    "bulk-no-crlf": "$3\r\nabcXY+OK\r\n",
    "integer-overflow": ":99999999999999999999\r\n",
    "array-negative": "*-2\r\n",
    "bulk-negative": "$-2\r\n",
    "lf-only": "+OK\n:1\n",
    "bulk-huge": "$9223372036854775807\r\nabc",
    "array-huge": "*2147483647\r\n:1\r\n",
}


# ---- redis_cluster: [mode][RESP] (even) or [mode | 1][error text] ---------
def resp_int(n):
    return f":{n}\r\n"


def resp_array(items):
    return f"*{len(items)}\r\n" + "".join(items)


def cluster_node(host, port, node_id="", meta=True):
    items = [bulk(host) if host is not None else "$-1\r\n", resp_int(port)]
    if node_id:
        items.append(bulk(node_id))
        if meta:
            items.append(resp_array([bulk("hostname"), bulk("node.example")]))
    return resp_array(items)


def slot_range(first, last, *nodes):
    return resp_array([resp_int(first), resp_int(last)] + list(nodes))


THREE_SHARDS = resp_array([
    slot_range(0, 5460, cluster_node("127.0.0.1", 30001, "a1"), cluster_node("127.0.0.1", 30005, "b5")),
    slot_range(5461, 10922, cluster_node("127.0.0.1", 30002, "a2"),
               cluster_node("127.0.0.1", 30006, "b6")),
    slot_range(10923, 16383, cluster_node("127.0.0.1", 30003, "a3"),
               cluster_node("127.0.0.1", 30004, "b4")),
])

REDIS_CLUSTER_SLOTS_SEEDS = {  # mode 0: what a node sends
    "three-shards": THREE_SHARDS,
    # redis-server 7.0.15 alone in its cluster: it does not know its own IP yet.
    "lone-node": "*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$0\r\n\r\n:50825\r\n$40\r\n"
                 "9f77932efb39e8c2f1991a87883c0b22ac082355\r\n*0\r\n",
    "split-primary": resp_array([slot_range(0, 99, cluster_node("10.0.0.1", 7000, "a")),
                                 slot_range(100, 199, cluster_node("10.0.0.2", 7000, "b")),
                                 slot_range(200, 16383, cluster_node("10.0.0.1", 7000, "a"))]),
    "v30-nodes": resp_array([slot_range(0, 16383, cluster_node("10.0.0.1", 7000))]),
    "nil-endpoint": resp_array([slot_range(0, 8191, cluster_node(None, 7001, "a")),
                                slot_range(8192, 16383, cluster_node("", 7002, "b"))]),
    "ipv6": resp_array([slot_range(0, 16383, cluster_node("::1", 7000, "a"))]),
    "uncovered": resp_array([slot_range(100, 5460, cluster_node("h", 1, "a")),
                             slot_range(5462, 16382, cluster_node("h", 2, "b"))]),
    "empty": "*0\r\n",
    "not-cluster": "-ERR This instance has cluster support disabled\r\n",
    "overlap": resp_array([slot_range(0, 10, cluster_node("h", 1, "a")),
                           slot_range(10, 20, cluster_node("h", 2, "b"))]),
    "slot-out-of-range": resp_array([slot_range(0, 16384, cluster_node("h", 1, "a"))]),
    "reversed": resp_array([slot_range(9, 5, cluster_node("h", 1, "a"))]),
    "port-zero": resp_array([slot_range(0, 1, cluster_node("h", 0, "a"))]),
    "port-big": resp_array([slot_range(0, 1, cluster_node("h", 65536, "a"))]),
    "port-string": resp_array([slot_range(0, 1, resp_array([bulk("h"), bulk("7000")]))]),
    "question-endpoint": resp_array([slot_range(0, 1, cluster_node("?", 7000, "a"))]),
    "short-range": resp_array([resp_array([resp_int(0), resp_int(1)])]),
    "short-node": resp_array([slot_range(0, 1, resp_array([bulk("h")]))]),
    "id-integer": resp_array([slot_range(0, 1, resp_array([bulk("h"), resp_int(1), resp_int(5)]))]),
    "moved-reply": "-MOVED 3999 127.0.0.1:6381\r\n",
}

REDIS_CLUSTER_ERROR_SEEDS = {  # mode 1: an error reply's text
    "moved": "MOVED 3999 127.0.0.1:6381",
    "ask": "ASK 3999 127.0.0.1:6381",
    "moved-dash": "-MOVED 0 h:1",
    "moved-ipv6": "MOVED 12182 ::1:7000",
    "ask-ipv6-bracketed": "ASK 5 [fe80::1]:7001",
    "moved-unknown-endpoint": "MOVED 3999 :6381",
    "moved-question": "MOVED 3999 ?:6381",
    "moved-slot-big": "MOVED 16384 h:1",
    "moved-port-big": "MOVED 1 h:65536",
    "moved-no-port": "MOVED 1 h",
    "moved-short": "MOVED 1",
    "tryagain": "TRYAGAIN Multiple keys request during rehashing of slot",
    "clusterdown": "CLUSTERDOWN The cluster is down",
    "clusterdown-unserved": "CLUSTERDOWN Hash slot not served",
    "crossslot": "CROSSSLOT Keys in request don't hash to the same slot",
    "other": "ERR unknown command",
}


def redis_cluster_seeds():
    out = {n: b"\0" + v.encode("latin-1") for n, v in REDIS_CLUSTER_SLOTS_SEEDS.items()}
    out.update({"error-" + n: b"\1" + v.encode("latin-1")
                for n, v in REDIS_CLUSTER_ERROR_SEEDS.items()})
    return out


def prefixed(seeds, prefix):
    return {n: bytes(prefix) + v.encode("latin-1") for n, v in seeds.items()}


TARGETS = {
    "http_request_reader": request_reader_seeds,
    "http_client_response": client_response_seeds,
    "event_fields": lambda: prefixed(EVENT_SEEDS, []),
    "routes": lambda: prefixed(ROUTE_SEEDS, []),
    "route_file": route_file_seeds,
    "relay_entry": relay_entry_seeds,
    "redis_url": lambda: prefixed(REDIS_URL_SEEDS, []),
    "redis_reply": lambda: prefixed(REDIS_REPLY_SEEDS, [3]),
    "redis_cluster": redis_cluster_seeds,
}


# Vectors the current code gets wrong (fuzz/findings/README.md): written to
# fuzz/findings/<target>/regress-<name> instead of the corpus, so that the
# committed seeds do not fail the suite. Move a name out of here (into the
# corpus) once its fix is merged.
FINDINGS = {}


def rewrite(folder, prefix, files):
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        if old.startswith(prefix):
            os.remove(os.path.join(folder, old))
    for name, data in files.items():
        with open(os.path.join(folder, prefix + name), "wb") as f:
            f.write(data)


def main():
    only = set(sys.argv[1:])
    for target, make in TARGETS.items():
        if only and target not in only:
            continue
        seeds = make()
        known = FINDINGS.get(target, set())
        missing = known - seeds.keys()
        if missing:
            sys.exit(f"{target}: FINDINGS names no seed: {sorted(missing)}")
        rewrite(os.path.join(HERE, "corpus", target), "seed-",
                {n: d for n, d in seeds.items() if n not in known})
        if known:
            rewrite(os.path.join(HERE, "findings", target), "regress-",
                    {n: d for n, d in seeds.items() if n in known})
        print(f"{target}: {len(seeds) - len(known)} seeds, {len(known)} findings")


if __name__ == "__main__":
    main()
