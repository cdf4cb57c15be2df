#!/usr/bin/python3
# bench/report.py - renders bench/results.tsv (rows of bench/lib.sh's bench_result:
# SECTION, CASE, load-client line, note) as Markdown tables with the ratio of mailward to
# each peer on the same case, and puts them between the markers of BENCHMARKS.md; the
# table of bench/pgp.sh (results-pgp.txt beside RESULTS.tsv) follows as it is.
#   report.py RESULTS.tsv BENCHMARKS.md [HEADER-LINE]
import os
import re
import sys

TITLES = {
    "inbound": "Inbound verification (milter-load; rate in messages/s, latency per message)",
    "sign": "Outbound DKIM signing (milter-load; one rsa-sha256 signature, relaxed/relaxed)",
    "policy": "MTA-STS policy lookups (socketmap-load; c = connections, d = requests in flight each)",
    "e2e": "End to end: smtp-source -> Postfix -> smtp-sink (messages/s until the queue is empty)",
    "memory": "Memory: peak RSS while loaded (MB)",
    "pgp": "PGP encryption (bench/pgp.sh)",
}
OURS = ("mailward", "postfix+mailward", "mailward-milter", "mailward-policyd")


def fields(line):
    return dict(m.groups() for m in re.finditer(r"(\w+)=([^ ]+)", line))


def rate(f):
    try:
        return float(f.get("rate", "0").rstrip("/s"))
    except ValueError:
        return 0.0


def split_case(case):
    who, _, rest = case.partition(" ")
    return who, rest


def table(section, rows):
    out = ["", "### " + TITLES.get(section, section), ""]
    if section == "memory":
        out += ["| daemon, load | peak RSS | load-client result |", "|---|---|---|"]
        for case, line, note in rows:
            out.append("| %s | %s | %s |" % (case, fields(line).get("rss_peak", line), note))
        return out
    out += ["| case | rate | p50 | p99 | max | CPU us each: daemon + client | errors | mailward / this |",
            "|---|---|---|---|---|---|---|---|"]
    ours = {}
    for case, line, note in rows:
        who, rest = split_case(case)
        if who in OURS:
            ours[rest] = rate(fields(line))
    for case, line, note in rows:
        f = fields(line)
        who, rest = split_case(case)
        if line == "-":
            out.append("| %s | - | | | | | | %s |" % (case, note))
            continue
        r = rate(f)
        ratio = ""
        if who not in OURS and rest in ours and r > 0:
            ratio = "%.2fx" % (ours[rest] / r)
        errs = f.get("errors", f.get("deferred", "0"))
        for k in ("TEMP", "other", "tempfailed", "rejected"):
            if f.get(k, "0") != "0":
                errs = "%s %s=%s" % (errs, k, f[k])
        if "matched" in f:
            errs = "%s (checked %s/%s)" % (errs, f["matched"], f.get("messages", "?"))
        cpu = ""
        if "daemon_cpu" in f or "client_cpu" in f:
            cpu = "%s + %s" % (f.get("daemon_cpu", "?").rstrip("us"), f.get("client_cpu", "?").rstrip("us"))
        out.append("| %s | %s/s | %s | %s | %s | %s | %s | %s |" % (
            case, f.get("rate", "?").rstrip("/s"), f.get("p50", ""), f.get("p99", ""), f.get("max", ""),
            cpu, errs, ratio or note))
    return out


def main():
    results, target = sys.argv[1], sys.argv[2]
    header = sys.argv[3] if len(sys.argv) > 3 else ""
    sections = {}
    order = []
    for raw in open(results, encoding="utf-8"):
        parts = raw.rstrip("\n").split("\t")
        if len(parts) < 3:
            continue
        sec, case, line = parts[:3]
        note = parts[3] if len(parts) > 3 else ""
        if sec not in sections:
            sections[sec] = []
            order.append(sec)
        sections[sec].append((case, line, note))
    body = [header] if header else []
    for sec in order:
        body += table(sec, sections[sec])
    pgp = os.path.join(os.path.dirname(results), "results-pgp.txt")
    if os.path.exists(pgp) and os.path.getsize(pgp) > 0:
        body += ["", "### " + TITLES["pgp"], "", "```"] + open(pgp, encoding="utf-8").read().rstrip("\n").split("\n") + ["```"]
    text = open(target, encoding="utf-8").read()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin not in text or end not in text:
        sys.exit("report.py: no result markers in " + target)
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(target, "w", encoding="utf-8") as f:
        f.write(head + begin + "\n" + "\n".join(body) + "\n" + end + tail)


main()
