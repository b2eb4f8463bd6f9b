#!/usr/bin/env python3
"""Fleet benchmark: N merchant apps (default 1,000) commit -> submit -> approve -> release with
`mp-release fleet run` against the served emulator, every answer held back LATENCY ms (default 50),
the fleet limited to RATE requests a second (default 20).

Rerun: python3 scripts/bench_fleet.py   (builds the release binary; writes Markdown on stdout;
N=200 SEQ=20 for a quicker look)

Measured in the same run:
- the fleet: wall time of the whole `fleet run` process (concurrency 64), and the WeChat calls it
  made (the emulator's journal);
- the rate-limit lower bound: those calls / RATE (no client can be faster and stay under the limit);
- a sequential loop: the same pipeline one app at a time (`--concurrency 1`) over SEQ apps (default
  50) of a second, identical platform, scaled to N (one app's cost does not depend on N);
- the emulator alone: the same fleet with no latency and no rate limit, to show the emulator is not
  what bounds the benchmark (its requests a second at N apps in flight).
Reviews approve on their first poll, the privacy scan ends at once, poll interval 1 s.
"""
import json, os, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(os.environ.get("N", "1000"))
SEQ = int(os.environ.get("SEQ", "50"))
LATENCY = int(os.environ.get("LATENCY", "50"))
RATE = float(os.environ.get("RATE", "20"))
BIN = os.path.join(ROOT, "target/release/mp-release")


def post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))


def get(url, path):
    return json.load(urllib.request.urlopen(url + path))


def emulator(scenario):
    d = tempfile.mkdtemp()
    path = os.path.join(d, "scenario.json")
    json.dump(scenario, open(path, "w"))
    p = subprocess.Popen([BIN, "emulator", "--port", "0", "--scenario", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.startswith("url="):
            return p, line.strip()[4:]
    raise SystemExit("the emulator did not start")


def platform(url, component, n, prefix):
    ticket = post(url, "/__emulator/platforms", {"component_appid": component, "component_secret": "s3cret-bench"})["component_verify_ticket"]
    tpl = post(url, "/__emulator/templates", {"component_appid": component, "source_appid": "wxd0d0d0d0d0d0d0d0",
                                                "user_version": "5.0.0", "pages": ["pages/index/index"], "size": 4096})["template_id"]
    for i in range(n):
        post(url, "/__emulator/apps", {"appid": f"wx{prefix}{i:012x}", "secret": "x", "component_appid": component,
                                       "live_version": "4.9.0"})
    return ticket, tpl


def fleet(url, component, ticket, tpl, concurrency, rate):
    d = tempfile.mkdtemp()
    open(os.path.join(d, "fleet.yml"), "w").write(f"template: {tpl}\napps: all\n")
    env = {"PATH": os.environ["PATH"], "HOME": d, "MP_RELEASE_WECHAT_BASE_URL": url,
           "MP_RELEASE_COMPONENT_APPID": component, "MP_RELEASE_COMPONENT_SECRET": "s3cret-bench",
           "MP_RELEASE_COMPONENT_VERIFY_TICKET": ticket, "NO_PROXY": "127.0.0.1"}
    args = [BIN, "fleet", "run", "--fleet-file", "fleet.yml", "--state-dir", "state",
            "--concurrency", str(concurrency), "--poll-interval", "1s", "--privacy-poll-interval", "1s"]
    if rate:
        args += ["--rate-limit", str(rate)]
    t = time.monotonic()
    r = subprocess.run(args, cwd=d, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-3000:])
        raise SystemExit(f"fleet run exited {r.returncode}")
    counts = json.loads([l for l in r.stdout.splitlines() if l.startswith("fleet-counts=")][0].split("=", 1)[1])
    planned = [l for l in r.stderr.splitlines() if "planned in" in l]
    plan_s = float(planned[0].split("planned in ")[1].split(" s")[0]) if planned else 0.0
    return wall, counts, plan_s


def main():
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    scenario = {"real-time": True, "latency-ms": LATENCY, "review-quota": 100000, "privacy-scan": {"polls": 0, "seconds": 0},
                "default-review": [{"after-polls": 1, "outcome": "approve"}],
                "retention": {"uploads": 8, "journal": 2000000}}
    proc, url = emulator(scenario)
    try:
        ticket, tpl = platform(url, "wxc0c0c0c0c0c0c001", N, "f1")
        t_wall, t_counts, t_plan = fleet(url, "wxc0c0c0c0c0c0c001", ticket, tpl, 64, RATE)
        journal = get(url, "/__emulator/journal")
        api = [e for e in journal if not e["path"].startswith("/__emulator")]
        fleet_calls = len(api)
        plan_calls = sum(1 for e in api if e["path"] in ("/cgi-bin/component/api_get_authorizer_list", "/cgi-bin/component/api_get_authorizer_info"))
        by_path = {}
        for e in api:
            by_path[e["path"]] = by_path.get(e["path"], 0) + 1
        urllib.request.urlopen(urllib.request.Request(url + "/__emulator/journal", method="DELETE"))
        ticket2, tpl2 = platform(url, "wxc0c0c0c0c0c0c002", SEQ, "f2")
        s_wall, s_counts, _ = fleet(url, "wxc0c0c0c0c0c0c002", ticket2, tpl2, 1, RATE)
        seq_calls = sum(1 for e in get(url, "/__emulator/journal") if not e["path"].startswith("/__emulator"))
    finally:
        proc.terminate()
        proc.wait()
    # the emulator alone: no latency, no rate limit
    scenario_fast = dict(scenario, **{"latency-ms": 0})
    proc, url = emulator(scenario_fast)
    try:
        ticket3, tpl3 = platform(url, "wxc0c0c0c0c0c0c003", N, "f3")
        f_wall, f_counts, _ = fleet(url, "wxc0c0c0c0c0c0c003", ticket3, tpl3, 64, 0)
        fast_calls = sum(1 for e in get(url, "/__emulator/journal") if not e["path"].startswith("/__emulator"))
    finally:
        proc.terminate()
        proc.wait()
    bound = fleet_calls / RATE
    seq_scaled = s_wall / SEQ * N
    cpu = os.cpu_count()
    print(f"Machine: {cpu} CPUs; N={N} apps, latency {LATENCY} ms per answer, rate limit {RATE:g} req/s, sequential sample {SEQ} apps.\n")
    print("| measurement | wall time | WeChat calls | notes |\n|---|---:|---:|---|")
    print(f"| `fleet run` (concurrency 64) | {t_wall:.1f} s | {fleet_calls} | outcomes {json.dumps(t_counts)} |")
    print(f"| rate-limit lower bound (calls ÷ {RATE:g}/s) | {bound:.1f} s | | fleet ÷ bound = **{t_wall / bound:.3f}×** |")
    print(f"| sequential loop (`--concurrency 1`, {SEQ} apps, scaled ×{N / SEQ:g}) | {seq_scaled:.1f} s | {seq_calls} for {SEQ} | fleet is {seq_scaled / t_wall:.1f}× faster |")
    print(f"| emulator alone (no latency, no limit) | {f_wall:.1f} s | {fast_calls} | {fast_calls / f_wall:.0f} req/s through one client and the emulator |")
    print(f"\nThe fleet run's plan (authorizer list and each app's permission sets: {plan_calls} calls, bound {plan_calls / RATE:.1f} s) took {t_plan:.1f} s;"
          f" the apps' pipelines {t_wall - t_plan:.1f} s for {fleet_calls - plan_calls} calls (bound {(fleet_calls - plan_calls) / RATE:.1f} s, {((t_wall - t_plan) / ((fleet_calls - plan_calls) / RATE)):.3f}×).")
    print("\nCalls by endpoint: " + ", ".join(f"{k.rsplit('/', 1)[-1]} {v}" for k, v in sorted(by_path.items(), key=lambda kv: -kv[1])))


if __name__ == "__main__":
    main()
