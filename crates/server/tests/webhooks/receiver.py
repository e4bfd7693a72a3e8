"""A webhook receiver for Clientele's tests: it verifies every delivery's signature with the
`standardwebhooks` package (the reference implementation, not Clientele's own code) and
answers as each hook's behaviour says.

  POST /hook/<name>          a delivery: verified with each secret set for <name>
  PUT  /_secrets/<name>      JSON list of "whsec_..." secrets to verify <name>'s deliveries with
  PUT  /_behaviour/<name>    JSON {"fail_first": n, "status": 503, "retry_after": "1", "gone": false}
  GET  /_log                 JSON list of what was received, in order

Prints "PORT <n>" once it listens on 127.0.0.1.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

lock = threading.Lock()
secrets = {}
behaviours = {}
counts = {}
log = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def answer(self, status, payload=None, headers=()):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        kind, _, name = self.path.strip("/").partition("/")
        value = json.loads(self.body())
        with lock:
            {"_secrets": secrets, "_behaviour": behaviours}[kind][name] = value
        self.answer(204)

    def do_GET(self):
        with lock:
            self.answer(200, list(log))

    def do_POST(self):
        name = self.path.strip("/").partition("/")[2]
        data = self.body()
        headers = {key: value for key, value in self.headers.items()}
        with lock:
            keys = list(secrets.get(name, []))
            behaviour = dict(behaviours.get(name, {}))
            counts[name] = counts.get(name, 0) + 1
            seen = counts[name]
        verified = []
        for secret in keys:
            try:
                Webhook(secret).verify(data, headers)
                verified.append(True)
            except WebhookVerificationError:
                verified.append(False)
        if seen <= behaviour.get("fail_first", 0):
            status = behaviour.get("status", 500)
        elif behaviour.get("gone"):
            status = 410
        else:
            status = 204
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        with lock:
            log.append({
                "hook": name,
                "id": headers.get("webhook-id") or headers.get("Webhook-Id"),
                "verified": verified,
                "signatures": len((headers.get("webhook-signature") or headers.get("Webhook-Signature") or "").split()),
                "answered": status,
                "body": body,
            })
        extra = [("Retry-After", behaviour["retry_after"])] if status in (429, 503) and "retry_after" in behaviour else []
        self.answer(status, headers=extra)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
server.serve_forever()
