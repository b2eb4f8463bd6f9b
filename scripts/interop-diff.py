#!/usr/bin/env python3
"""Uploads projects with the real miniprogram-ci and with the native engine into one served emulator
and prints where the two file maps differ (names, order, bytes). A tool for finding miniprogram-ci's
packing rules; the tests that hold them are in tests/all/interop.rs.

    python3 scripts/interop-diff.py [--platform] [--dump] [--raw] PROJECT_DIR...

--platform makes the appid a third-party platform's (ext.json takes effect); --dump lists the
official map (with the JSON files' text); --raw compares `__warning__` keys too.

Uses target/debug/mp-release (run `cargo build` first) and the miniprogram-ci installed by
scripts/install-miniprogram-ci.sh. `__warning__` keys of JSON files are ignored (locale text).
"""
import base64, json, os, subprocess, sys, tempfile, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests/fixtures/miniprogram-ci")
APPID = "wx0123456789abcdef"


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    return json.load(urllib.request.urlopen(req))


def entries(upload, raw=False):
    out = []
    for f in upload["files"]:
        if f["name"] == "/ci.signature":
            continue
        b = base64.b64decode(f["base64"])
        if f["name"].endswith(".json") and not raw:
            try:
                v = json.loads(b)
                if isinstance(v, dict) and "__warning__" in v:
                    v.pop("__warning__")
                    b = json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode()
            except ValueError:
                pass
        out.append((f["name"], b))
    return out


def main():
    args = sys.argv[1:]
    platform = "--platform" in args
    dump = "--dump" in args
    raw = "--raw" in args
    projects = [a for a in args if a not in ("--platform", "--dump", "--raw")]
    binary = os.path.join(ROOT, "target/debug/mp-release")
    ci = subprocess.run(["bash", os.path.join(ROOT, "scripts/install-miniprogram-ci.sh")], check=True,
                        capture_output=True, text=True).stdout.strip()
    module = os.path.join(ci, "node_modules/miniprogram-ci")
    # Large package limits, so that big real projects fit (WeChat's are per account).
    scenario = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False)
    scenario.write("upload-limits: {main-mb: 64, sub-mb: 64, full-mb: 256}\n")
    scenario.close()
    emu = subprocess.Popen([binary, "emulator", "--scenario", scenario.name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        out = dict(emu.stdout.readline().strip().split("=", 1) for _ in range(2))
        url, ca = out["url"], out["ca"]
        post(f"{url}/__emulator/apps", {"appid": APPID, "platform_app": platform})
        post(f"{url}/__emulator/keys", {"appid": APPID, "public_key": open(os.path.join(FIX, "keys/public.wx0123456789abcdef.pem")).read()})
        key = os.path.join(FIX, "keys/private.wx0123456789abcdef.key")
        failed, failures = False, 0
        for project in projects:
            failures += failed
            failed = False
            with tempfile.TemporaryDirectory() as tmp:
                req = {"module": module, "appid": APPID, "projectPath": os.path.abspath(project),
                       "privateKeyPath": key, "version": "1.0.0", "robot": 3}
                env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "https_proxy", "http_proxy")}
                env.update(MP_RELEASE_CI_REQUEST=json.dumps(req), HTTPS_PROXY=url, NODE_EXTRA_CA_CERTS=ca)
                off = subprocess.run(["node", os.path.join(ROOT, "src/adapters/upload/driver.js")], cwd=tmp,
                                     env=env, capture_output=True, text=True)
                last = [l for l in off.stdout.splitlines() if l.startswith("{")][-1:]
                print(f"== {project}\nofficial: {last[0][:300] if last else off.stderr[-500:]}")
                env = dict(os.environ, INPUT_APPID=APPID, MP_RELEASE_UPLOAD_BASE_URL=url)
                nat = subprocess.run([binary, "upload", "--engine", "native", "--project-path", project,
                                      "--private-key-path", key, "--version-from", "explicit:1.0.0", "--robot", "3", "-q"],
                                     env=env, capture_output=True, text=True)
                print(f"native: exit {nat.returncode} {nat.stderr.strip()[-600:]}")
                ups = json.load(urllib.request.urlopen(f"{url}/__emulator/uploads"))
                if off.returncode != 0 or nat.returncode != 0:
                    failed = True
                    post(f"{url}/__emulator/clock", {"advance": 0})
                    continue
                theirs, ours = entries(ups[-2], raw), entries(ups[-1], raw)
                if dump:
                    for n, b in theirs:
                        print(f"  {n}" + (f"  {b.decode(errors='replace')[:300]}" if n.endswith('.json') else ""))
                tn, on = [n for n, _ in theirs], [n for n, _ in ours]
                if set(tn) != set(on):
                    failed = True
                    print("  only official:", sorted(set(tn) - set(on)))
                    print("  only native:  ", sorted(set(on) - set(tn)))
                elif tn != on:
                    failed = True
                    first = next(i for i, (a, b) in enumerate(zip(tn, on)) if a != b)
                    print(f"  order differs from #{first}:")
                    for i in range(first, min(first + 12, len(tn))):
                        print(f"    {tn[i]:<50} {on[i]}")
                td, od = dict(theirs), dict(ours)
                for n in tn:
                    if n in od and td[n] != od[n]:
                        failed = True
                        print(f"  bytes differ: {n}\n    official: {td[n][:400]!r}\n    native:   {od[n][:400]!r}")
                if not failed:
                    print(f"  identical ({len(tn)} entries)")
        sys.exit(1 if failures + failed else 0)
    finally:
        emu.terminate()


if __name__ == "__main__":
    main()
