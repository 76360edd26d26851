#!/usr/bin/env python3
"""tests/packaging/units.py — the systemd units of packaging/ are what docs/operations.md says.

1. Each unit file is parsed (systemd's syntax: sections, keys that may repeat, comments) and the
   keys the service relies on are checked: Type=notify, the SIGHUP reload, the hardening, the
   user, the data directory, LimitNOFILE above [server] max_connections's default (read from
   `custodian config`), the backup unit's two commands and the timer's schedule.
2. When systemd-analyze is on the machine, `systemd-analyze verify` runs on copies whose
   ExecStart names the built binary (verify checks that it exists), and any complaint fails the
   test (verify exits 0 on an unknown key, and says so only on stderr); then `systemd-analyze
   security --offline` must rate custodian.service's exposure at most 2.0 of 10.
   Without systemd-analyze the test says so and relies on the first part.

usage: units.py SOURCE_DIR path/to/custodian
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

UNITS = ["custodian.service", "custodian-backup.service", "custodian-backup.timer"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def parse(path):
    """{section: {key: [values in order]}}; an empty assignment resets a list, as systemd does."""
    units, section = {}, None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
            if m:
                section = units.setdefault(m.group(1), {})
                continue
            m = re.fullmatch(r"([A-Za-z0-9]+)=(.*)", line)
            if not m or section is None:
                failures.append(f"{os.path.basename(path)}:{n}: not a unit file line: {line!r}")
                continue
            key, value = m.group(1), m.group(2).strip()
            if value == "":
                section[key] = [""]
            else:
                section.setdefault(key, []).append(value)
    return units


def one(unit, section, key):
    values = unit.get(section, {}).get(key, [])
    return values[-1] if values else None


HARDENING = {
    "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
    "PrivateDevices": "yes", "NoNewPrivileges": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
    "MemoryDenyWriteExecute": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": "",
    "UMask": "0077", "User": "custodian", "StateDirectory": "custodian",
    "ReadWritePaths": "/var/lib/custodian", "SystemCallArchitectures": "native",
}


def check_service(name, unit, address_families):
    for key, want in HARDENING.items():
        check(one(unit, "Service", key) == want, f"{name}: {key}={want} expected, "
              f"found {one(unit, 'Service', key)!r}")
    filters = unit.get("Service", {}).get("SystemCallFilter", [])
    check("@system-service" in filters, f"{name}: SystemCallFilter=@system-service expected")
    check(one(unit, "Service", "RestrictAddressFamilies") == address_families,
          f"{name}: RestrictAddressFamilies={address_families} expected")


def max_connections_default(binary):
    out = subprocess.run([binary, "config"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"server\.max_connections \(integer, \d+\.\.\d+; default (\d+);", out)
    assert m, "server.max_connections not in `custodian config`"
    return int(m.group(1))


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    source, binary = sys.argv[1], os.path.abspath(sys.argv[2])
    pack = os.path.join(source, "packaging")
    units = {u: parse(os.path.join(pack, u)) for u in UNITS}

    serve = units["custodian.service"]
    check(one(serve, "Service", "Type") == "notify", "custodian.service: Type=notify expected")
    check(one(serve, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID",
          "custodian.service: ExecReload must send SIGHUP to the main process")
    check(re.fullmatch(r"/usr/bin/custodian --data /var/lib/custodian serve( .*)?",
                       one(serve, "Service", "ExecStart") or ""),
          "custodian.service: ExecStart must be custodian serve on /var/lib/custodian")
    check(one(serve, "Install", "WantedBy") == "multi-user.target",
          "custodian.service: WantedBy=multi-user.target expected")
    check_service("custodian.service", serve, "AF_INET AF_INET6 AF_UNIX")
    nofile = one(serve, "Service", "LimitNOFILE") or "0"
    check(nofile.isdigit() and int(nofile) > max_connections_default(binary),
          f"custodian.service: LimitNOFILE={nofile} must be above max_connections's default")

    backup = units["custodian-backup.service"]
    check(one(backup, "Service", "Type") == "oneshot", "custodian-backup.service: Type=oneshot")
    check(backup.get("Service", {}).get("ExecStart") == [
        "/usr/bin/custodian --data /var/lib/custodian backup",
        "/usr/bin/custodian --data /var/lib/custodian backup prune"],
        "custodian-backup.service: `backup` then `backup prune` expected")
    check_service("custodian-backup.service", backup, "AF_UNIX")

    timer = units["custodian-backup.timer"]
    check(one(timer, "Timer", "Unit") == "custodian-backup.service",
          "custodian-backup.timer: Unit=custodian-backup.service expected")
    check(one(timer, "Timer", "OnCalendar"), "custodian-backup.timer: OnCalendar= expected")
    check(one(timer, "Timer", "Persistent") == "yes", "custodian-backup.timer: Persistent=yes")
    check(one(timer, "Install", "WantedBy") == "timers.target",
          "custodian-backup.timer: WantedBy=timers.target expected")

    analyze = shutil.which("systemd-analyze")
    if analyze:
        tmp = tempfile.mkdtemp(prefix="cu-units-")
        try:
            for u in UNITS:
                with open(os.path.join(pack, u), encoding="utf-8") as f:
                    text = f.read().replace("/usr/bin/custodian", binary)
                with open(os.path.join(tmp, u), "w", encoding="utf-8") as f:
                    f.write(text)
            paths = [os.path.join(tmp, u) for u in UNITS]
            # --man=no: Documentation=man:custodian(1) is there once installed, not here.
            r = subprocess.run([analyze, "verify", "--man=no", *paths], capture_output=True,
                               text=True)
            check(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
                  f"systemd-analyze verify: status {r.returncode}: {r.stderr}{r.stdout}")
            r = subprocess.run([analyze, "security", "--offline=true", "--threshold=20",
                                os.path.join(tmp, "custodian.service")], capture_output=True,
                               text=True)
            level = re.search(r"Overall exposure level for \S+: (\S+)", r.stdout)
            check(r.returncode == 0, "systemd-analyze security: exposure above 2.0: "
                  + (level.group(1) if level else r.stdout[-500:] + r.stderr[-500:]))
            if level:
                print(f"custodian.service exposure (systemd-analyze security): {level.group(1)}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("systemd-analyze not installed: the units were parsed and their keys checked, "
              "not verified by systemd")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not failures:
        print("ok: " + ", ".join(UNITS))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
