#!/usr/bin/env python3
"""fake_hub.py — a tiny Hugging Face Hub on 127.0.0.1 for tests/test_hub.py.

Serves the /resolve/ endpoint the way huggingface.co does for the files
under ROOT/ORG/NAME/ (one commit per repository):

  HEAD|GET /ORG/NAME/resolve/REV/FILE
      REV: "main" or the repository's commit, else 404 RevisionNotFound.
      Every answer carries X-Repo-Commit.  LFS files (*.safetensors, *.gguf)
      carry X-Linked-Etag (their sha256) and X-Linked-Size; with "cdn" they
      answer 302 to http://localhost:PORT/cdn/ORG/NAME/SHA256 (another
      origin than 127.0.0.1: the token must not follow).  Small files answer
      200 with ETag = their git blob sha1.
      A missing repository: 404 RepoNotFound; a missing file: 404
      EntryNotFound.
  GET /cdn/ORG/NAME/SHA256
      the bytes, with Range support.

Misbehaviour, from the JSON file given with --config (re-read on every
request, so a test can change it between runs):
  "token": "..."            with "private": [ids] -> 401 unless "Bearer TOKEN"
  "gated": [ids]            -> 403 unless "Bearer TOKEN"
  "cut": {"ORG/NAME/FILE": N}   the first full GET of FILE sends N bytes, then
                                drops the connection
  "corrupt": ["ORG/NAME/FILE"]  serve FILE with one byte changed (same size)
  "cdn": true
  "ignore_range": true       answer 200 with the whole file to a Range GET

Every request is logged as one JSON line to --log: method, path, the Range
header, whether an Authorization header came and whether it was right, the
status.  The bound port is written to --port-file once the server listens.
The server exits after --deadline seconds (default 120) in any case.
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
CUT_DONE = set()


def config():
    try:
        with open(ARGS.config) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def commit_of(repo):
    return hashlib.sha1(("commit:" + repo).encode()).hexdigest()


def git_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_lfs(name):
    return name.endswith(".safetensors") or name.endswith(".gguf")


def read_file(repo, name):
    path = os.path.join(ARGS.root, repo, name)
    if not os.path.isfile(path) or ".." in name.split("/"):
        return None
    with open(path, "rb") as f:
        return f.read()


def find_by_sha(repo, sha):
    base = os.path.join(ARGS.root, repo)
    for dirpath, _, files in os.walk(base):
        for fn in files:
            p = os.path.join(dirpath, fn)
            with open(p, "rb") as f:
                data = f.read()
            if hashlib.sha256(data).hexdigest() == sha:
                return os.path.relpath(p, base), data
    return None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; the JSON log is the record
        pass

    def record(self, status):
        cfg = config()
        auth = self.headers.get("Authorization")
        entry = {
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "range": self.headers.get("Range"),
            "auth": auth is not None,
            "auth_ok": auth == "Bearer " + cfg.get("token", "\0"),
            "status": status,
        }
        with LOCK, open(ARGS.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def send(self, status, headers=None, body=b"", head=False):
        self.record(status)
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def do_HEAD(self):
        self.route(head=True)

    def do_GET(self):
        self.route(head=False)

    def route(self, head):
        parts = self.path.split("?")[0].split("/")
        if len(parts) >= 5 and parts[1] == "cdn":
            return self.cdn("/".join(parts[2:4]), parts[4], head)
        if len(parts) < 6 or parts[3] != "resolve":
            return self.send(404, {"X-Error-Code": "RepoNotFound"}, b"not found", head)
        repo, rev, name = "/".join(parts[1:3]), parts[4], "/".join(parts[5:])
        return self.resolve(repo, rev, name, head)

    def resolve(self, repo, rev, name, head):
        cfg = config()
        token_ok = self.headers.get("Authorization") == "Bearer " + cfg.get("token", "\0")
        if not os.path.isdir(os.path.join(ARGS.root, repo)):
            return self.send(404, {"X-Error-Code": "RepoNotFound",
                                   "X-Error-Message": "Repository not found"}, b"", head)
        if repo in cfg.get("private", []) and not token_ok:
            return self.send(401, {"X-Error-Message": "Invalid username or password."}, b"", head)
        if repo in cfg.get("gated", []) and not token_ok:
            return self.send(403, {"X-Error-Code": "GatedRepo",
                                   "X-Error-Message": "Access to model %s is restricted." % repo}, b"", head)
        commit = commit_of(repo)
        if rev not in ("main", commit):
            return self.send(404, {"X-Error-Code": "RevisionNotFound", "X-Repo-Commit": commit}, b"", head)
        data = read_file(repo, name)
        if data is None:
            return self.send(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit,
                                   "X-Error-Message": "Entry not found"}, b"", head)
        hdr = {"X-Repo-Commit": commit}
        if is_lfs(name):
            sha = hashlib.sha256(data).hexdigest()
            hdr.update({"X-Linked-Etag": '"%s"' % sha, "X-Linked-Size": str(len(data))})
            if cfg.get("cdn"):
                port = self.server.server_address[1]
                hdr["Location"] = "http://localhost:%d/cdn/%s/%s" % (port, repo, sha)
                return self.send(302, hdr, b"", head)
            hdr["ETag"] = '"%s"' % sha
            return self.body(repo, name, data, hdr, head)
        hdr["ETag"] = '"%s"' % git_sha1(data)
        return self.body(repo, name, data, hdr, head)

    def cdn(self, repo, sha, head):
        name, data = find_by_sha(repo, sha)
        if data is None:
            return self.send(404, {}, b"no such object", head)
        return self.body(repo, name, data, {"ETag": '"%s"' % sha}, head)

    def body(self, repo, name, data, hdr, head):
        cfg = config()
        key = repo + "/" + name
        if key in cfg.get("corrupt", []):
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        rng = self.headers.get("Range")
        status = 200
        if rng and rng.startswith("bytes=") and not cfg.get("ignore_range"):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                return self.send(416, {"Content-Range": "bytes */%d" % len(data)}, b"", head)
            status = 206
            hdr["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        part = data[start:]
        hdr["Content-Length"] = str(len(part))
        cut = cfg.get("cut", {}).get(key)
        with LOCK:
            do_cut = cut is not None and not head and start == 0 and key not in CUT_DONE
            if do_cut:
                CUT_DONE.add(key)
        if do_cut:
            self.record("cut")
            self.send_response(status)
            for k, v in hdr.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(part[:cut])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        return self.send(status, hdr, part, head)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--deadline", type=float, default=120.0)
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, ARGS.port_file)
    threading.Thread(target=lambda: (time.sleep(ARGS.deadline), os._exit(0)), daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
