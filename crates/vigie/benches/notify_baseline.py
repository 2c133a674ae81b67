"""The named baseline of the notifications benchmark: Python's smtplib sending the same number of messages straight
to the same SMTP server, one connection per message (what a cron script paging by mail does), timing each from
connection to acceptance. Prints `p50_ms p99_ms total_s`. Usage: notify_baseline.py PORT N"""
import smtplib
import sys
import time
from email.message import EmailMessage

port, n = int(sys.argv[1]), int(sys.argv[2])
times = []
start = time.perf_counter()
for k in range(n):
    msg = EmailMessage()
    msg["From"] = "Vigie <vigie@toc.example>"
    msg["To"] = "ana@atos.example"
    msg["Subject"] = f"[Vigie] INC{k:07d} P2 — référence"
    msg["Message-ID"] = f"<baseline-{k}@vigie>"
    msg.set_content("Bonjour Ana Martin,\n\nL'incident de référence.\n")
    t = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.send_message(msg)
    times.append((time.perf_counter() - t) * 1000)
total = time.perf_counter() - start
times.sort()
print(f"{times[len(times) // 2]:.3f} {times[min(len(times) - 1, len(times) * 99 // 100)]:.3f} {total:.3f}")
