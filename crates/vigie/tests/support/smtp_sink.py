"""A real SMTP server for the tests (Debian's python3-aiosmtpd): every message it accepts is written to DIR/N.eml
(N from 1), as a reader sees it: its recipients, its headers decoded, its text decoded. Prints `ready PORT` once it
listens. With SINK_REFUSE=N in its environment, it refuses the first N messages for now (451), as a relay that is
down, then takes them. With SINK_TLS=CERT:KEY it requires STARTTLS with that certificate, with SINK_AUTH=USER:PASSWORD
it requires that login (PLAIN or LOGIN, over TLS); each message then says how it came (`X-Sink-Session`).
Usage: smtp_sink.py PORT DIR"""
import email
import email.header
import ssl
import email.policy
import os
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0
        self.refuse = int(os.environ.get("SINK_REFUSE", "0"))

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 relais indisponible, réessayez plus tard"
        self.n += 1
        path = os.path.join(self.out, f"{self.n}.eml")
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with open(path + ".part", "w", encoding="utf-8") as f:
            f.write("X-Rcpt-To: " + ",".join(envelope.rcpt_tos) + "\n")
            if os.environ.get("SINK_TLS") or os.environ.get("SINK_AUTH"):
                login = session.auth_data.login.decode() if session.auth_data else ""
                f.write(f"X-Sink-Session: tls={'yes' if session.ssl else 'no'} login={login}\n")
            for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To"):
                f.write(f"{name}: {msg[name]}\n")
            f.write("\n" + msg.get_content())
        os.rename(path + ".part", path)
        if os.environ.get("SINK_PRINT"):
            # For the benchmark: when each message was accepted, on the same clock as the client's.
            print(f"accepted {msg['Message-ID']} {time.time_ns()}", flush=True)
        return "250 2.0.0 accepted as " + str(self.n)


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = os.environ["SINK_AUTH"].split(":", 1)
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


port, out = int(sys.argv[1]), sys.argv[2]
kwargs = {}
if os.environ.get("SINK_TLS"):
    cert, key = os.environ["SINK_TLS"].split(":", 1)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    kwargs.update(tls_context=context, require_starttls=True)
if os.environ.get("SINK_AUTH"):
    kwargs.update(auth_required=True, auth_require_tls=True, authenticator=authenticator)
controller = Controller(Sink(out), hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
controller.start()
print(f"ready {port}", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
