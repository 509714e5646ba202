"""Issue 7: wss:// with verification, client certificates, bearer tokens; `serve --tls-cert`.

Certificates are made at test time with the openssl command. The client tests put a small
terminating front (Python's ssl module) in front of a plain `wsflow serve`; the server tests run
`wsflow serve --tls-cert ... --tls-key ...` itself.
"""
import os
import select
import socket
import ssl
import subprocess
import threading
import warnings

from wsflow_e2e import Server, Skip, finish, start, tmpdir, wait_for, wsflow

FAST = '{"delay_ms":1}'
TOKEN = "s3cr3t-t0ken-e2e-4711"


def _openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()


def make_certs():
    """A CA; leaves for localhost/127.0.0.1, for a wrong name, an expired one; a self-signed one;
    a client certificate. Returns the directory."""
    d = tmpdir()
    if subprocess.run(["which", "openssl"], stdout=subprocess.DEVNULL).returncode != 0:
        raise Skip("no openssl command")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=wsflow test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    exts = {
        "good": "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        "wrong": "subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n",
        "expired": "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        "client": "extendedKeyUsage=clientAuth\n",
    }
    for name, ext in exts.items():
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        _openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
    for name in ("good", "wrong", "client"):
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", name + ".pem", "-days", "30", "-extfile", name + ".ext", cwd=d)
    # expired: `openssl ca` takes dates in the past
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca=dflt\n[dflt]\ndir=%s\ndatabase=$dir/index.txt\nnew_certs_dir=$dir\n"
                "certificate=$dir/ca.pem\nprivate_key=$dir/ca.key\nserial=$dir/serial\ndefault_md=sha256\n"
                "policy=any\nunique_subject=no\n[any]\ncommonName=supplied\n" % d)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    _openssl("ca", "-batch", "-notext", "-config", "ca.cnf", "-in", "expired.csr", "-out", "expired.pem",
             "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extfile", "expired.ext", cwd=d)
    _openssl("req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-days", "30", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", cwd=d)
    return d


class TlsFront:
    """Terminates TLS on 127.0.0.1 and pipes the bytes to a plain backend port."""

    def __init__(self, backend_port, cert, key, client_ca=None):
        self.backend_port = backend_port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        if client_ca:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(client_ca)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(10)
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        back = socket.create_connection(("127.0.0.1", self.backend_port))
        tls.setblocking(False)
        try:
            while True:
                ready = [tls] if tls.pending() else select.select([tls, back], [], [], 60)[0]
                if not ready:
                    return
                if tls in ready:
                    try:
                        data = tls.recv(65536)
                    except ssl.SSLWantReadError:
                        data = None
                    if data == b"":
                        return
                    if data:
                        back.sendall(data)
                if back in ready:
                    data = back.recv(65536)
                    if not data:
                        return
                    while data:
                        try:
                            n = tls.send(data)
                            data = data[n:]
                        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                            select.select([], [tls], [], 5)
        except (OSError, ssl.SSLError):
            return
        finally:
            for s in (tls, back):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def run(url, *args, env=None):
    return wsflow("execute", "tls", "--auto-approve", "--config", FAST, "--url", url, "--retries", "2",
                  "--retry-initial", "100ms", *args, env=env, timeout=60)


def with_front(leaf, client_ca=None):
    d = make_certs()
    s = Server()
    front = TlsFront(s.port, os.path.join(d, leaf + ".pem"), os.path.join(d, leaf + ".key"),
                     os.path.join(d, client_ca) if client_ca else None)
    return d, s, front


def test_wss_right_host_with_ca():
    d, s, front = with_front("good")
    with s:
        for host in ("localhost", "127.0.0.1"):
            r = run("wss://%s:%d" % (host, front.port), "--ca", os.path.join(d, "ca.pem"))
            assert r.rc == 0, r
            assert r.events[-1]["event_type"] == "workflow_completed"
            assert "warning" not in r.err.decode()


def test_wss_capath():
    d, s, front = with_front("good")
    capath = tmpdir()
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", os.path.join(d, "ca.pem")],
                       stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    with open(os.path.join(d, "ca.pem")) as src, open(os.path.join(capath, h + ".0"), "w") as dst:
        dst.write(src.read())
    with s:
        r = run("wss://localhost:%d" % front.port, "--capath", capath)
        assert r.rc == 0, r


def test_wss_wrong_host_names_both():
    d, s, front = with_front("wrong")
    with s:
        r = run("wss://localhost:%d" % front.port, "--ca", os.path.join(d, "ca.pem"))
        assert r.rc == 5, r
        err = r.err.decode()
        line = [l for l in err.splitlines() if "mismatch" in l]
        assert line and "wanted localhost," in line[0] and "wrong.example" in line[0], err
        assert "reconnecting" not in err, err  # not retried


def test_wss_expired():
    d, s, front = with_front("expired")
    with s:
        r = run("wss://localhost:%d" % front.port, "--ca", os.path.join(d, "ca.pem"))
        assert r.rc == 5, r
        assert "expired" in r.err.decode(), r
        assert "reconnecting" not in r.err.decode(), r


def test_wss_self_signed_without_ca_fails_and_insecure_warns():
    d, s, front = with_front("self")
    with s:
        r = run("wss://localhost:%d" % front.port)
        assert r.rc == 5, r
        assert "TLS" in r.err.decode() and "self-signed" in r.err.decode(), r
        r = run("wss://localhost:%d" % front.port, "--insecure")
        assert r.rc == 0, r
        assert "warning: --insecure" in r.err.decode(), r


def test_wss_client_certificate():
    d, s, front = with_front("good", client_ca="ca.pem")
    with s:
        ca = os.path.join(d, "ca.pem")
        r = run("wss://localhost:%d" % front.port, "--ca", ca, "--cert", os.path.join(d, "client.pem"), "--key",
                os.path.join(d, "client.key"))
        assert r.rc == 0, r
        # TLS 1.3: the server's refusal arrives after the client's handshake, as an alert (or,
        # in a race, as a reset): exit 5 either way.
        r = run("wss://localhost:%d" % front.port, "--ca", ca)
        assert r.rc == 5, r


def test_wss_bad_options_are_usage_errors():
    r = wsflow("watch", "r-x", "--url", "wss://localhost:1", "--cert", "/nonexistent.pem", "--key", "/nonexistent.key")
    assert r.rc == 2 and "--cert" in r.err.decode(), r
    r = wsflow("watch", "r-x", "--url", "wss://localhost:1", "--key", "/etc/hostname")
    assert r.rc == 2 and "--key needs --cert" in r.err.decode(), r


def _token_server():
    d = tmpdir()
    path = os.path.join(d, "token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    return path, Server("--token-file", path)


def test_token_file_right_wrong_missing():
    path, s = _token_server()
    with s:
        rec = os.path.join(tmpdir(), "rec")
        r = run(s.url, "--token-file", path, "-v", "--record", rec)
        assert r.rc == 0, r
        assert TOKEN not in r.err.decode() and TOKEN not in r.out.decode()
        with open(rec, "rb") as f:
            assert TOKEN.encode() not in f.read()
        wrong = os.path.join(tmpdir(), "wrong")
        with open(wrong, "w") as f:
            f.write("not-the-token")
        r = run(s.url, "--token-file", wrong, "-v")
        assert r.rc == 6, r
        assert "401" in r.err.decode() and "not-the-token" not in r.err.decode(), r
        r = run(s.url)
        assert r.rc == 6 and "401" in r.err.decode(), r


def test_token_from_env_and_as_query():
    path, s = _token_server()
    with s:
        r = run(s.url, "-v", env={"WSFLOW_TOKEN": TOKEN})
        assert r.rc == 0, r
        assert TOKEN not in r.err.decode()
        r = run(s.url, "-v", env={"WSFLOW_TOKEN_FILE": path})
        assert r.rc == 0, r
        r = run(s.url, "-v", "--token-query", "access_token", env={"WSFLOW_TOKEN": TOKEN})
        assert r.rc == 0, r
        assert TOKEN not in r.err.decode()
        # not in the process's arguments
        p = start("watch", "r-nonexistent", "--url", s.url, "--follow", "--token-file", path,
                  env={"WSFLOW_TOKEN": TOKEN})
        try:
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                assert TOKEN.encode() not in f.read()
        finally:
            p.terminate()
            finish(p, timeout=30)


def test_header_option_and_file():
    path, s = _token_server()
    with s:
        hdr = os.path.join(tmpdir(), "headers")
        with open(hdr, "w") as f:
            f.write("# comment\nAuthorization: Bearer %s\nX-Trace: 1\n" % TOKEN)
        r = run(s.url, "--header", "@" + hdr, "-v")
        assert r.rc == 0, r
        assert TOKEN not in r.err.decode()
        r = run(s.url, "--header", "no colon here")
        assert r.rc == 2, r


# ---------------------------------------------------------------------------------------------
# wsflow serve --tls-cert/--tls-key (--tls-client-ca)

def tls_server(d, *args, leaf="good"):
    return Server("--tls-cert", os.path.join(d, leaf + ".pem"), "--tls-key", os.path.join(d, leaf + ".key"), *args)


def test_serve_tls_with_the_right_ca_and_a_wrong_one():
    d = make_certs()
    other = make_certs()  # another CA: its ca.pem did not sign the server's certificate
    with tls_server(d) as s:
        assert "listening on wss://127.0.0.1:%d" % s.port in s.stderr(), s.stderr()
        for host in ("localhost", "127.0.0.1"):
            r = run("wss://%s:%d" % (host, s.port), "--ca", os.path.join(d, "ca.pem"))
            assert r.rc == 0 and r.events[-1]["event_type"] == "workflow_completed", r
        r = run("wss://localhost:%d" % s.port, "--ca", os.path.join(other, "ca.pem"))
        err = r.err.decode()
        assert r.rc == 5 and "certificate verify failed" in err and "reconnecting" not in err, r
        r = run("ws://127.0.0.1:%d" % s.port)  # plain WebSocket to a TLS port: no handshake
        assert r.rc == 5, r


def test_serve_tls_refuses_tls_1_1():
    d = make_certs()
    with tls_server(d) as s:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that this client offers TLS 1.1 at all
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.wrap_socket(socket.create_connection(("127.0.0.1", s.port), timeout=10)).close()
            raise AssertionError("the server accepted TLS 1.1")
        except ssl.SSLError as e:
            if "NO_PROTOCOLS_AVAILABLE" in str(e) or "NO_CIPHERS" in str(e):
                raise Skip("this OpenSSL cannot offer TLS 1.1: %s" % e)
            assert "PROTOCOL_VERSION" in str(e), e  # the server's alert
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", s.port), timeout=10)) as tls:
            assert tls.version() == "TLSv1.2"


def test_serve_tls_client_certificate_required():
    d = make_certs()
    other = make_certs()
    with tls_server(d, "--tls-client-ca", os.path.join(d, "ca.pem")) as s:
        url = "wss://localhost:%d" % s.port
        ca = os.path.join(d, "ca.pem")
        r = run(url, "--ca", ca, "--cert", os.path.join(d, "client.pem"), "--key", os.path.join(d, "client.key"))
        assert r.rc == 0, r
        r = run(url, "--ca", ca)
        assert r.rc == 5, r
        # a client certificate that the required CA did not sign
        r = run(url, "--ca", ca, "--cert", os.path.join(other, "client.pem"), "--key", os.path.join(other, "client.key"))
        assert r.rc == 5, r


def test_serve_tls_bad_certificate_or_key_is_one_line_and_exit_2():
    d = make_certs()
    pem = lambda name: os.path.join(d, name)
    cases = [
        (["--tls-cert", pem("missing.pem"), "--tls-key", pem("good.key")], "--tls-cert"),
        (["--tls-cert", pem("good.key"), "--tls-key", pem("good.key")], "--tls-cert"),  # not a certificate
        (["--tls-cert", pem("good.pem"), "--tls-key", pem("ca.srl")], "--tls-key"),  # not a key
        (["--tls-cert", pem("good.pem"), "--tls-key", pem("wrong.key")], "not the key of the certificate"),
        (["--tls-cert", pem("good.pem"), "--tls-key", pem("good.key"), "--tls-client-ca", pem("good.key")],
         "--tls-client-ca"),
        (["--tls-cert", pem("good.pem")], "--tls-key"),
        (["--tls-key", pem("good.key")], "--tls-cert"),
    ]
    for args, said in cases:
        port_file = os.path.join(tmpdir(), "port")
        r = wsflow("serve", "--port", "0", "--port-file", port_file, *args, timeout=30)
        lines = r.err.decode().splitlines()
        assert r.rc == 2 and len(lines) == 1 and said in lines[0], (args, r)
        assert not os.path.exists(port_file), args  # it never listened
    r = wsflow("replay", "/nonexistent", "--serve", "--tls-key", pem("good.key"))
    assert r.rc == 2 and "--tls-cert" in r.err.decode(), r


def test_replay_serve_over_tls():
    d = make_certs()
    rec = os.path.join(tmpdir(), "rec.ndjson")
    with Server() as s:
        orig = run(s.url, "--run-id", "tls-rec", "--record", rec)
        assert orig.rc == 0, orig
    port_file = os.path.join(tmpdir(), "port")
    p = start("replay", rec, "--serve", "--port", "0", "--port-file", port_file, "--tls-cert",
              os.path.join(d, "good.pem"), "--tls-key", os.path.join(d, "good.key"), stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(port_file), 10, "replay --serve to listen")
        r = wsflow("watch", "tls-rec", "--url", "wss://localhost:%s" % open(port_file).read().strip(), "--ca",
                   os.path.join(d, "ca.pem"), timeout=60)
        assert r.rc == 0 and r.out == orig.out, r
    finally:
        p.terminate()
        finish(p, timeout=30)
