"""A real headless browser for tests: Debian's chromium, driven over the DevTools protocol.

The protocol runs over a WebSocket; the few lines of client below (RFC 6455: handshake,
masked client frames, fragmented server messages) spare a dependency. ``load`` opens one
page offline (every host name resolves to nothing) and returns what a user would see and
what the console said: a screenshot, the boxes of chosen elements, errors and warnings,
and every URL the page asked for. ``png_pixels`` decodes the screenshot (zlib, PNG
filters) so a test can look at it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--hide-scrollbars",
)
WAIT = 60.0  # seconds a browser may take to start, answer or load before the test gives up


class WebSocket:
    def __init__(self, host: str, port: int, path: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=WAIT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"no WebSocket: {head[:200]!r}")

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the browser closed the connection")
        self.buffer += chunk

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._fill()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def send(self, text: str) -> None:
        payload = text.encode()
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._take(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._take(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._take(8))[0]
            payload = self._take(size)
            opcode = first & 0x0F
            if opcode == 8:
                raise ConnectionError("the browser closed the WebSocket")
            if opcode in (0, 1, 2):
                message += payload
                if first & 0x80:
                    return message.decode()

    def close(self) -> None:
        self.sock.close()


@dataclass
class Cdp:
    """Commands and the events that arrive meanwhile, on one page session."""

    ws: WebSocket
    session: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _next: int = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.receive())
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})  # type: ignore[no-any-return]
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = json.loads(self.ws.receive())
            self.events.append(event)
            if event.get("method") == method:
                return event


@dataclass
class PageLoad:
    png: bytes  # the viewport's screenshot
    boxes: dict[str, list[dict[str, float]]]  # selector -> each element's box (x, y, width, height)
    problems: list[str]  # console errors and warnings, uncaught exceptions, log entries at warning or error
    requests: list[str]  # every URL the page asked for, itself included


def load(page: Path, profile: Path, selectors: list[str], width: int = 1200, height: int = 900) -> PageLoad:
    """Open ``page`` (a file) in headless chromium, offline; ``profile`` is an empty folder."""
    assert CHROMIUM is not None
    log = open(profile.parent / f"{profile.name}.log", "wb")  # noqa: SIM115  # closed below
    browser = subprocess.Popen(
        [
            CHROMIUM,
            *FLAGS,
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )
    try:
        port, path = _endpoint(profile, browser)
        ws = WebSocket("127.0.0.1", port, path)
        try:
            return _visit(Cdp(ws), page, selectors, width, height)
        finally:
            ws.close()
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()
        log.close()


def _endpoint(profile: Path, browser: subprocess.Popen[bytes]) -> tuple[int, str]:
    """The browser writes its DevTools port and path to DevToolsActivePort when it is ready."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            raise RuntimeError(f"chromium exited with {browser.returncode} before it was ready")
        lines = active.read_text().splitlines() if active.exists() else []
        if len(lines) >= 2:
            return int(lines[0]), lines[1]
        time.sleep(0.05)
    raise RuntimeError(f"chromium did not start within {WAIT} s")


def _visit(cdp: Cdp, page: Path, selectors: list[str], width: int, height: int) -> PageLoad:
    target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
    cdp.session = cdp.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        cdp.call(f"{domain}.enable")
    cdp.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
    cdp.call("Page.navigate", url=page.resolve().as_uri())
    cdp.wait_for("Page.loadEventFired")
    # Evaluated by the test through DevTools, not by the page: the page itself runs no script.
    box = "e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    script = (
        f"JSON.stringify(Object.fromEntries({json.dumps(selectors)}"
        f".map(s => [s, [...document.querySelectorAll(s)].map({box})])))"
    )
    boxes = json.loads(cdp.call("Runtime.evaluate", expression=script, returnByValue=True)["result"]["value"])
    png = base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"])
    problems, requests = [], []
    for event in cdp.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
            problems.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            problems.append(f"{params['entry']['source']} {params['entry']['level']}: {params['entry']['text']}")
        elif method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            problems.append(f"network: {params.get('errorText')}")
    return PageLoad(png, boxes, problems, requests)


# -- PNG ----------------------------------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB or RGBA PNG, as RGB bytes per row."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks: dict[str, bytes] = {}
    idat = b""
    for kind, body in _chunks(data[8:]):
        if kind == "IDAT":
            idat += body
        else:
            chunks.setdefault(kind, body)
    width, height, depth, color, _, _, interlace = struct.unpack("!IIBBBBB", chunks["IHDR"])
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(kind, line, previous, channels)
        rows.append(bytes(line) if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
        previous = line
    return width, height, rows


def _chunks(data: bytes) -> Iterator[tuple[str, bytes]]:
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack("!I4s", data[offset : offset + 8])
        yield kind.decode("ascii"), data[offset + 8 : offset + 8 + size]
        offset += 12 + size


def _unfilter(kind: int, line: bytearray, up: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, up, strict=True))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up[i]) >> 1)) & 0xFF
        elif kind == 4:
            corner = up[i - bpp] if i >= bpp else 0
            estimate = left + up[i] - corner
            da, db, dc = abs(estimate - left), abs(estimate - up[i]), abs(estimate - corner)
            predictor = left if da <= db and da <= dc else up[i] if db <= dc else corner
            line[i] = (line[i] + predictor) & 0xFF
        else:
            raise ValueError(f"PNG filter {kind}")
