"""A real SMTP server for the tests (Debian's python3-aiosmtpd): every message it accepts is written to DIR/N.eml
(N from 1), as a reader sees it: its recipients, its headers decoded, its text decoded. Prints `ready PORT` once it
listens. With SINK_REFUSE=N in its environment, it refuses the first N messages for now (451), as a relay that is
down, then takes them. Usage: smtp_sink.py PORT DIR"""
import email
import email.header
import email.policy
import os
import sys
import time

from aiosmtpd.controller import Controller


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
            for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To"):
                f.write(f"{name}: {msg[name]}\n")
            f.write("\n" + msg.get_content())
        os.rename(path + ".part", path)
        if os.environ.get("SINK_PRINT"):
            # For the benchmark: when each message was accepted, on the same clock as the client's.
            print(f"accepted {msg['Message-ID']} {time.time_ns()}", flush=True)
        return "250 2.0.0 accepted as " + str(self.n)


port, out = int(sys.argv[1]), sys.argv[2]
controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
controller.start()
print(f"ready {port}", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
