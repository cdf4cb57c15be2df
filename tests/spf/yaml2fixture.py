#!/usr/bin/python3
"""yaml2fixture.py - convert the openspf RFC 7208 test suite (YAML) into the
line format tests/spf/spf-suite.c reads, so the C runner needs no YAML
parser.

Output, one record a line, every free-text value hex-encoded ("-" if empty; the
suite has non-ASCII, NUL and space-laden values):
  S <hex description>    a new scenario (its zone and tests follow)
  D <hex name>           a zone name (lower-cased); its records follow
  R <TYPE> <hex value>   a record in YAML order (TXT, A, AAAA, MX, PTR,
                         CNAME); MX value is "pref name"; TYPE TIMEOUT
                         (value "-") is a whole-name timeout
  T <hex test id>        a test; then H host, F mailfrom, E helo,
  H/F/E <hex>            W results (comma list), optional X explanation
  W <r1,r2>  X <hex>     and "." ends the test
SPF-type records become TXT records when the name has no TXT record of its
own (the "auto-magic duplication" the suite's header asks drivers for);
RFC 7208 evaluators never query type SPF. Usage: yaml2fixture.py IN.yml
"""
import sys

import yaml


def hx(s):
    return str(s).encode("utf-8").hex() or "-"


def records(rr):
    out, gen, has_txt = [], [], False
    for m in rr:
        if isinstance(m, str):
            out.append(("TIMEOUT", "-"))
            continue
        for t, v in m.items():
            if isinstance(v, list) and t in ("TXT", "SPF"):
                v = "".join(v)
            elif isinstance(v, list):
                v = " ".join(str(x) for x in v)
            if t == "TXT":
                has_txt = True
            if t == "SPF":
                if v != "NONE":
                    gen.append(("TXT", v))
                continue
            if v == "NONE":
                continue
            out.append((t, v))
    return out + ([] if has_txt else gen)


def main():
    w = sys.stdout.write
    with open(sys.argv[1], "rb") as fp:
        for sc in yaml.safe_load_all(fp):
            w("S %s\n" % hx(sc.get("description", "")))
            for name, rr in sc["zonedata"].items():
                w("D %s\n" % hx(name.lower()))
                for t, v in records(rr):
                    w("R %s %s\n" % (t, v if t == "TIMEOUT" else hx(v)))
            for tid, t in sc["tests"].items():
                res = t["result"]
                res = res if isinstance(res, list) else [res]
                w("T %s\nH %s\nF %s\nE %s\nW %s\n" % (hx(tid), hx(t["host"]),
                  hx(t["mailfrom"]), hx(t["helo"]), ",".join(res)))
                if "explanation" in t:
                    w("X %s\n" % hx(t["explanation"]))
                w(".\n")


main()
