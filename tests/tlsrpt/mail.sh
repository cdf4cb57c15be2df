#!/bin/sh
# mail.sh - TLS reports (RFC 8460) received by mail: the real mailward-milter with
# "plugins = tlsrpt" behind the world's sending Postfix. A report mail (multipart/report,
# application/tlsrpt+gzip, made by report-mail.py from the RFC 8460 example) to the
# configured address is parsed: one log line with the organisation, report id, domain
# and counts, the Prometheus counters scraped with curl hold the sessions and failures,
# and with action = deliver the mail still reaches the mailbox. A truncated gzip, a plain
# +json report, a mail without a report part and one over max_size give "rejected" /
# "accepted" lines and counts and are delivered too. Then action = discard (SIGHUP): a report to the report
# address only is dropped, and one also addressed to bob reaches bob but not the report
# mailbox.
set -u
. "$top_srcdir/tests/world/lib.sh"
world_up
T=$WORLD_DIR/tlsrpt
mkdir -p "$T"
MAKE=$top_srcdir/tests/tlsrpt/report-mail.py
LOG=$WORLD_DIR/mailward/milter.log
RPT=tlsrpt@valid.test

WORLD_PLUGIN_DIR=$top_builddir/plugins/.libs world_start_milter tlsrpt <<CONF
[tlsrpt]
address = $RPT, postmaster-tls@valid.test
action = deliver
max_size = 1048576
CONF
world_postconf sender "smtp_tls_policy_maps ="

# submit FILE: send the prepared mail FILE to its To address(es) through Postfix.
submit() {
    world_exec swaks --server "$WORLD_SENDER" --from tlsrpt-noreply@company-x.example \
        --to "$2" --data "$1" >>"$WORLD_DIR/log/swaks.log" 2>&1 || world_fail "swaks $1"
}
# metric NAME{LABELS}: its value in the milter's /metrics (empty if absent).
metric() {
    world_exec curl -sf http://127.0.0.1:9469/metrics >"$T/prom" || world_fail "scrape"
    awk -v k="$1" 'index($0, k " ") == 1 { print $NF }' "$T/prom"
}
want() {
    got=$(metric "$1")
    [ "$got" = "$2" ] || world_fail "$1 = [$got], want $2"
}
# wait_log PATTERN: grep -E the milter log until PATTERN appears.
wait_log() {
    world_wait_for "$WORLD_WAIT" grep -Eq "$1" "$LOG" || world_fail "no log line matching $1"
}

/usr/bin/python3 "$MAKE" "$top_srcdir/tests/tlsrpt/valid.json" "$T/gz.eml" gzip || world_fail "report-mail.py"
submit "$T/gz.eml" "$RPT"
msg=$(world_wait_delivered valid "$RPT")
grep -q '^TLS-Report-Submitter: company-x.example' "$msg" || world_fail "delivered mail is not the report"
wait_log 'tlsrpt via=mail org="Company-X" report-id="5065427c-23d3-47ca-b6e0-946ea0e8c4be" policy-domain=company-y.example type=sts successes=5326 failures=303 results=certificate-expired:100,starttls-not-supported:200,validation-failure:3 accepted'
grep -q 'tlsrpt_submitter=company-x.example tlsrpt_domain=valid.test tlsrpt=accepted' "$LOG" ||
    world_fail "no tlsrpt=accepted (with submitter and domain) in the message's log line"
want 'mailward_tlsrpt_reports_total{org="Company-X",result="accepted"}' 1
want 'mailward_tlsrpt_sessions_total{org="Company-X",policy_domain="company-y.example",outcome="success"}' 5326
want 'mailward_tlsrpt_sessions_total{org="Company-X",policy_domain="company-y.example",outcome="failure"}' 303
want 'mailward_tlsrpt_failures_total{org="Company-X",result_type="certificate-expired"}' 100
want 'mailward_tlsrpt_failures_total{org="Company-X",result_type="starttls-not-supported"}' 200
want 'mailward_tlsrpt_failures_total{org="Company-X",result_type="validation-failure"}' 3
echo "ok 1 gzip report by mail: logged, counted, delivered"

/usr/bin/python3 "$MAKE" "$top_srcdir/tests/tlsrpt/valid.json" "$T/trunc.eml" truncated || world_fail "report-mail.py"
submit "$T/trunc.eml" "$RPT"
world_wait_delivered valid "$RPT" 2 >/dev/null
wait_log 'tlsrpt via=mail org="unknown" report-id="unknown" rejected: gzip: truncated after [0-9]+ bytes'
grep -q 'tlsrpt=rejected' "$LOG" || world_fail "no tlsrpt=rejected in the message's log line"
want 'mailward_tlsrpt_reports_total{org="unknown",result="rejected"}' 1
echo "ok 2 truncated gzip: rejected, counted, still delivered"

/usr/bin/python3 "$MAKE" "$top_srcdir/tests/tlsrpt/multi.json" "$T/json.eml" json postmaster-tls@valid.test ||
    world_fail "report-mail.py"
submit "$T/json.eml" postmaster-tls@valid.test
world_wait_delivered valid postmaster-tls@valid.test >/dev/null
wait_log 'org="Mail Sender_ Inc." .*policy-domain=example.org type=tlsa successes=10 failures=4 results=tlsa-invalid:3,x-made-up:1 policy-domain=example.net type=no-policy-found successes=7 failures=0 results=none accepted'
want 'mailward_tlsrpt_failures_total{org="Mail Sender_ Inc.",result_type="tlsa-invalid"}' 3
want 'mailward_tlsrpt_failures_total{org="Mail Sender_ Inc.",result_type="other"}' 1
/usr/bin/python3 "$MAKE" "$top_srcdir/tests/tlsrpt/valid.json" "$T/none.eml" none || world_fail "report-mail.py"
submit "$T/none.eml" "$RPT"
world_wait_delivered valid "$RPT" 3 >/dev/null
wait_log 'rejected: no application/tlsrpt\+gzip or application/tlsrpt\+json part'
want 'mailward_tlsrpt_reports_total{org="unknown",result="rejected"}' 2
echo "ok 3 +json report with two policies accepted; a mail without a report rejected and delivered"

/usr/bin/python3 "$MAKE" "$top_srcdir/tests/tlsrpt/valid.json" "$T/big.eml" big || world_fail "report-mail.py"
submit "$T/big.eml" "$RPT"
world_wait_delivered valid "$RPT" 4 >/dev/null
wait_log 'tlsrpt via=mail org="unknown" report-id="unknown" rejected: message larger than \[tlsrpt\] max_size'
want 'mailward_tlsrpt_reports_total{org="unknown",result="rejected"}' 3
want 'mailward_tlsrpt_reports_total{org="Company-X",result="accepted"}' 1
echo "ok 4 a report mail over max_size: rejected unread, still delivered"

sed -i 's/^action = deliver$/action = discard/' "$WORLD_DIR/mailward/milter.conf"
kill -HUP "$(cat "$WORLD_DIR/mailward/milter.pid")"
wait_log 'reload: configuration .* in use'
submit "$T/gz.eml" "$RPT"
wait_log 'tlsrpt_action=discard'
world_wait_for "$WORLD_WAIT" grep -q 'milter-discard: END-OF-MESSAGE' "$WORLD_DIR/postfix/sender/maillog" ||
    world_fail "Postfix did not discard the report-only mail"
submit "$T/gz.eml" "$RPT,bob@valid.test"
msg=$(world_wait_delivered valid bob@valid.test)
grep -q '^TLS-Report-Submitter: company-x.example' "$msg" || world_fail "bob's copy is not the report"
grep -q 'tlsrpt_action=remove-report-rcpts' "$LOG" || world_fail "report recipient not removed"
n=$(ls "$WORLD_MAIL/valid/$RPT/new" | wc -l)
[ "$n" = 4 ] || world_fail "the report mailbox holds $n messages, want 4 (both discarded copies missing)"
want 'mailward_tlsrpt_reports_total{org="Company-X",result="accepted"}' 3
echo "ok 5 action = discard: report-only mail dropped, bob keeps his copy of a mixed one"

world_stop_daemons
exit 0
