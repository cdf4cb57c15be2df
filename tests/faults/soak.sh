#!/bin/sh
# soak.sh - nothing lost: SOAK_N (default 1500) small messages through the sending Postfix
# with mailward-milter attached, while faults are injected mid-run: the milter is killed
# (SIGKILL) and started again, then the receiving MX (instance "valid") is stopped.
#
# Each message carries a sequence token ("soak SEQ RUN" in its Subject). The client (8
# SMTP sessions, Python smtplib) retries a message until Postfix answers 250 to its DATA:
# a 4xx (milter_default_action = tempfail answers 451 while the milter is down) or a
# dropped connection before the message text was sent is the client's to retry, so "sent"
# means "accepted by Postfix", exactly once per token. A drop after the final "." would be
# ambiguous (Postfix may have queued it); the client counts those and the test fails if
# there are any. Every anomaly is printed with its token and cause, and the failure
# message carries the client's tally. (Queue ids are reported, not asserted unique: a
# short Postfix queue id is microseconds + inode number, unique only among the files in
# the queue at one time, so a later message may legitimately get an earlier one's id.)
# The invariants:
#   1. while the MX is still down and the queues are quiet:
#        sent == delivered + queued (sender's queue + the MX's own queue)
#   2. after the MX is back and the sender's queue is flushed: every token 0..N-1 is in
#      exactly one delivered message (none missing, none twice) and both queues are empty.
. "$top_srcdir/tests/world/lib.sh"
. "$top_srcdir/tests/faults/lib.sh"
N=${SOAK_N:-1500}
world_up
t0=$(date +%s)
: >"$WORLD_DIR/mailward/tls-rules"
world_start_policyd tls-rules <<CONF
[tls-rules]
table = $WORLD_DIR/mailward/tls-rules
CONF
world_start_milter probe <<'CONF'
[milter]
internal_hosts = 192.0.2.1/32
CONF
[ "$(postconf -c "$WORLD_DIR/postfix/sender" -h milter_default_action)" = tempfail ] ||
    world_fail "the sender's milter_default_action is not tempfail"

cat >"$WORLD_DIR/soak.py" <<'PY'
import os, smtplib, sys, threading, time
host, n, run, progress = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
todo = list(range(n - 1, -1, -1))
stats = {"sent": 0, "tempfail": 0, "drop": 0, "ambiguous": 0, "fatal": 0}
qids = []

def note(key, seq=None, why=None):
    with lock:
        stats[key] += 1
        if why is not None:
            print("%s: token %06d: %s" % (key, seq, why), flush=True)

class Ambiguous(Exception):
    pass

def one(conn, seq):
    # 0 accepted, 1 retry; raises on a permanent answer
    subj = "soak %06d %s" % (seq, run)
    body = ("From: alice@valid.test\r\nTo: bob@valid.test\r\nSubject: %s\r\n"
            "Message-ID: <soak.%06d.%s@valid.test>\r\n\r\nsoak message %06d\r\n" % (subj, seq, run, seq))
    code, msg = conn.mail("alice@valid.test")
    if code != 250:
        return code
    code, msg = conn.rcpt("bob@valid.test")
    if code != 250:
        conn.rset()
        return code
    # DATA by hand: a drop before the text is sent is a plain retry; only one after the
    # final "." leaves it open whether Postfix queued the message.
    code, msg = conn.docmd("data")
    if code != 354:
        return code
    text = smtplib.quotedata(body)
    conn.send((text if text.endswith("\r\n") else text + "\r\n").encode() + b".\r\n")
    try:
        code, msg = conn.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as e:
        note("ambiguous", seq, "connection lost after the final dot: %r" % e)
        raise Ambiguous()
    if code == 250:
        with lock:
            qids.append(msg.decode().split()[-1])
    return code

def worker():
    conn = None
    while True:
        with lock:
            if not todo:
                break
            seq = todo.pop()
        while True:
            try:
                if conn is None:
                    conn = smtplib.SMTP(host, 25, timeout=30)
                    conn.ehlo("soak.test")
                code = one(conn, seq)
            except Ambiguous:
                conn, code = None, 421
            except (smtplib.SMTPException, OSError) as e:
                note("drop", seq, repr(e))
                conn, code = None, 421
            if code == 250:
                with lock:
                    stats["sent"] += 1
                    with open(progress + ".tmp", "w") as f:
                        f.write("%d\n" % stats["sent"])
                    os.rename(progress + ".tmp", progress)
                break
            if code >= 500:
                note("fatal", seq, "permanent answer %d" % code)
                break
            note("tempfail")
            if conn is not None:
                try:
                    conn.quit()
                except Exception:
                    pass
                conn = None
            time.sleep(0.2)
    if conn is not None:
        try:
            conn.quit()
        except Exception:
            pass

ts = [threading.Thread(target=worker) for _ in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(" ".join("%s %d" % kv for kv in stats.items()),
      "qids %d distinct %d" % (len(qids), len(set(qids))), flush=True)
sys.exit(0 if stats["sent"] == n == len(qids) and not stats["ambiguous"] and not stats["fatal"] else 1)
PY

run=r$$
echo 0 >"$WORLD_DIR/soak.progress"
world_exec /usr/bin/python3 "$WORLD_DIR/soak.py" "$WORLD_SENDER" "$N" "$run" "$WORLD_DIR/soak.progress" \
    >"$WORLD_DIR/soak.out" 2>&1 &
client=$!
progress() { [ "$(cat "$WORLD_DIR/soak.progress")" -ge "$1" ]; }
world_wait_for 60 progress $((N / 5)) || world_fail "the client got nowhere: $(cat "$WORLD_DIR/soak.out")"

# Fault 1: the milter vanishes (SIGKILL) for 3 s and is started again.
for d in $WORLD_DAEMONS; do [ "${d%%:*}" = milter ] && milter=${d##*:}; done
kill -KILL "$milter"
wait "$milter" 2>/dev/null
WORLD_DAEMONS=$(for d in $WORLD_DAEMONS; do [ "${d%%:*}" = milter ] || printf ' %s' "$d"; done)
echo "milter $milter killed at $(cat "$WORLD_DIR/soak.progress") sent"
sleep 3
world_start_milter probe <<'CONF'
[milter]
internal_hosts = 192.0.2.1/32
CONF
echo "milter started again"
world_wait_for 60 progress $((N / 2)) || world_fail "no progress after the milter came back"

# Fault 2: the receiving MX goes away until the client is done. It first answers 450 to
# every client and, once its own queue is empty, is stopped: a "postfix stop" in the middle
# of a local delivery would leave a delivered message in its queue, to be delivered again
# (Postfix delivers at least once), and this test proves exactly once.
mx=$WORLD_DIR/postfix/valid
queued() { world_exec postqueue -c "$WORLD_DIR/postfix/$1" -j 2>/dev/null | wc -l; }
world_postconf valid smtpd_client_restrictions=defer
# (A flush each time: a message the MX itself deferred would otherwise wait its backoff.)
mx_empty() { world_exec postqueue -c "$mx" -f 2>/dev/null; [ "$(queued valid)" = 0 ]; }
world_wait_for 60 mx_empty ||
    world_fail "the MX does not empty its queue: $(world_exec postqueue -c "$mx" -j | head -n 3)"
world_exec postfix -c "$mx" stop >/dev/null 2>&1 || world_fail "cannot stop the MX"
echo "MX valid deferring, then stopped at $(cat "$WORLD_DIR/soak.progress") sent"
wait $client
rc=$?
cat "$WORLD_DIR/soak.out"
[ $rc = 0 ] || world_fail "the client did not get every message accepted exactly once:" \
    "$(tail -n 20 "$WORLD_DIR/soak.out")"
sent=$(sed -n 's/.*sent \([0-9]*\).*/\1/p' "$WORLD_DIR/soak.out")
tempfail=$(sed -n 's/.*tempfail \([0-9]*\).*/\1/p' "$WORLD_DIR/soak.out")
[ "$tempfail" -gt 0 ] || world_fail "no message was tempfailed: the milter fault did not bite"

delivered() { find "$WORLD_MAIL/valid/bob@valid.test/new" -type f 2>/dev/null | wc -l; }
# Quiet: the sender has nothing in its incoming or active queue (every message is
# deferred by the MX outage), so no message is between the two counts.
quiet() {
    [ "$(world_exec postqueue -c "$WORLD_DIR/postfix/sender" -j | grep -c '"queue_name": *"\(incoming\|active\)"')" = 0 ]
}
world_wait_for 60 quiet || world_fail "the sender's queue does not settle"
d=$(delivered) qs=$(queued sender) qm=$(queued valid)
echo "during the fault: sent $sent delivered $d queued $((qs + qm)) (sender $qs, MX $qm) tempfailed $tempfail"
[ "$sent" = $((d + qs + qm)) ] || world_fail "sent $sent != delivered $d + queued $((qs + qm))"
[ "$qs" -gt 0 ] || world_fail "nothing was queued while the MX was down"

# The fault clears: the MX comes back and the sender retries at once.
postconf -c "$mx" -e smtpd_client_restrictions= || world_fail "cannot change the MX's main.cf"
world_exec postfix -c "$mx" start >/dev/null 2>&1 || world_fail "cannot start the MX again"
world_exec /usr/bin/python3 "$top_srcdir/tests/world/wait-ports.py" "$WORLD_WAIT" 127.0.0.11:25 ||
    world_fail "the MX did not come back"
world_exec postqueue -c "$WORLD_DIR/postfix/sender" -f
drained() { [ "$(delivered)" -ge "$sent" ] && [ "$(queued sender)" = 0 ] && [ "$(queued valid)" = 0 ]; }
world_wait_for 90 drained || world_fail "after the fault: delivered $(delivered) queued $(queued sender)+$(queued valid) of $sent"
sleep 1
d=$(delivered) qs=$(queued sender) qm=$(queued valid)
find "$WORLD_MAIL/valid/bob@valid.test/new" -type f -exec sed -n "s/^Subject: soak \([0-9]*\) $run\$/\1/p" {} + |
    sort >"$WORLD_DIR/seqs"
distinct=$(uniq "$WORLD_DIR/seqs" | wc -l)
dups=$(uniq -d "$WORLD_DIR/seqs" | wc -l)
missing=$(seq -f %06.0f 0 $((N - 1)) | comm -23 - "$WORLD_DIR/seqs" | wc -l)
echo "after the fault: sent $sent delivered $d queued $((qs + qm)) distinct $distinct duplicates $dups missing $missing"
[ "$d" = "$sent" ] && [ "$distinct" = "$N" ] && [ "$dups" = 0 ] && [ "$missing" = 0 ] &&
    [ $((qs + qm)) = 0 ] || world_fail "messages lost or duplicated"
grep -q 'X-Mailward-Probe: inbound' "$(ls "$WORLD_MAIL/valid/bob@valid.test/new"/* | head -n 1)" ||
    world_fail "the messages did not pass through the milter"
world_stop_daemons
echo "PASS: soak: $N messages, milter killed and MX stopped mid-run, none lost, none twice ($(($(date +%s) - t0)) s)"
