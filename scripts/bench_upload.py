#!/usr/bin/env python3
"""Upload benchmark: the native engine vs the official miniprogram-ci engine, in the same run.

Rerun: python3 scripts/bench_upload.py   (builds the release binary; writes a Markdown table on stdout)

Both engines upload the same projects into the same served emulator (`mp-release emulator`, reached
by the official tool as an HTTPS proxy): the fixture `sample` project and a generated large project
(~2,000 files, ~15 MB). Each measurement is the whole `mp-release upload` process, timed with GNU
time (wall seconds, peak RSS of the largest process in the tree), 5 runs each, medians reported.
The one-off install time of the official engine is measured by installing it into a fresh cache.
"""
import json, os, random, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests/fixtures/miniprogram-ci")
APPID = "wx0123456789abcdef"
RUNS = int(os.environ.get("RUNS", "5"))


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def large_project(dir_):
    """~2,000 files, ~15 MB: 450 pages (js, wxml, wxss, json) spread over subpackages, and images."""
    rnd = random.Random(42)
    os.makedirs(dir_)
    subs = []
    for s in range(6):
        pages = []
        for p in range(75):
            base = os.path.join(dir_, f"sub{s}", "pages", f"p{p}")
            os.makedirs(base)
            js = "".join(f"const v{i} = {rnd.random()};\n" for i in range(160))
            open(f"{base}/index.js", "w").write(f"Page({{ data: {{ n: {p} }} }})\n{js}")
            open(f"{base}/index.wxml", "w").write("<view>" + "<text>item</text>" * 100 + "</view>\n")
            open(f"{base}/index.wxss", "w").write(".item { color: #333; }\n" * 40)
            open(f"{base}/index.json", "w").write('{"navigationBarTitleText": "p"}')
            pages.append(f"pages/p{p}/index")
        subs.append({"root": f"sub{s}", "pages": pages})
    os.makedirs(os.path.join(dir_, "pages/index"))
    for ext, text in [("js", "Page({})"), ("wxml", "<view/>"), ("wxss", ""), ("json", "{}")]:
        open(os.path.join(dir_, f"pages/index/index.{ext}"), "w").write(text)
    os.makedirs(os.path.join(dir_, "images"))
    for i in range(190):  # incompressible, like real images
        open(os.path.join(dir_, f"images/i{i}.png"), "wb").write(rnd.randbytes(60_000))
    json.dump({"pages": ["pages/index/index"], "subPackages": subs}, open(os.path.join(dir_, "app.json"), "w"))
    open(os.path.join(dir_, "app.js"), "w").write("App({})")
    json.dump({"appid": APPID, "compileType": "miniprogram", "setting": {}}, open(os.path.join(dir_, "project.config.json"), "w"))


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    return json.load(urllib.request.urlopen(req))


def main():
    sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
    binary = os.path.join(ROOT, "target/release/mp-release")
    work = tempfile.mkdtemp(prefix="mp-release-bench-")
    try:
        big = os.path.join(work, "large")
        large_project(big)
        files = sum(len(f) for _, _, f in os.walk(big))
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(big) for f in fs)
        scenario = os.path.join(work, "bench.yml")
        open(scenario, "w").write("upload-limits: {main-mb: 64, sub-mb: 64, full-mb: 256}\n")
        emu = subprocess.Popen([binary, "emulator", "--scenario", scenario], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines = [emu.stdout.readline().strip() for _ in range(2)]
        out = dict(l.split("=", 1) for l in lines)
        url, ca = out["url"], out["ca"]
        post(f"{url}/__emulator/apps", {"appid": APPID})
        post(f"{url}/__emulator/keys", {"appid": APPID, "public_key": open(os.path.join(FIX, "keys/public.wx0123456789abcdef.pem")).read()})

        # The official engine's one-off install, into a fresh cache.
        cache = os.path.join(work, "cache")
        t0 = time.monotonic()
        env = dict(os.environ, MINIPROGRAM_CI_VERSION="2.1.42")
        target = os.path.join(cache, "miniprogram-ci/2.1.42")
        os.makedirs(target)
        open(os.path.join(target, "package.json"), "w").write('{"name":"bench","private":true}')
        sh("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts", "miniprogram-ci@2.1.42", cwd=target, env=env)
        install = time.monotonic() - t0

        results = {}
        for project_name, path in [("sample (11 files)", os.path.join(FIX, "sample-projects/sample")), (f"large ({files} files, {size / 1e6:.1f} MB)", big)]:
            for engine in ["native", "miniprogram-ci"]:
                walls, rss = [], []
                for _ in range(RUNS):
                    cmd = ["/usr/bin/time", "-f", "%e %M", binary, "upload", "--engine", engine, "--project-path", path,
                           "--private-key-path", os.path.join(FIX, "keys/private.wx0123456789abcdef.key"),
                           "--version-from", "explicit:1.0.0", "--cache-dir", cache, "--ca-file", ca, "-q"]
                    p = subprocess.run(cmd, capture_output=True, text=True,
                                       env=dict(os.environ, INPUT_APPID=APPID, MP_RELEASE_UPLOAD_BASE_URL=url, MP_RELEASE_UPLOAD_TIMEOUT="600s"))
                    if p.returncode != 0:
                        sys.exit(f"{engine} on {project_name} failed:\n{p.stderr}")
                    w, m = p.stderr.strip().splitlines()[-1].split()
                    walls.append(float(w))
                    rss.append(int(m) / 1024)
                results[(project_name, engine)] = (statistics.median(walls), statistics.median(rss), walls)
        emu.terminate()

        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        print(f"Machine: {os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; {RUNS} runs each, medians.\n")
        print("| project | engine | wall (median) | peak RSS (median) | runs (s) |")
        print("|---|---|---|---|---|")
        for (proj, eng), (w, m, walls) in results.items():
            print(f"| {proj} | {eng} | {w:.2f} s | {m:.0f} MB | {', '.join(f'{x:.2f}' for x in walls)} |")
        print()
        for proj in dict.fromkeys(p for p, _ in results):
            n, o = results[(proj, "native")], results[(proj, "miniprogram-ci")]
            print(f"- {proj}: native is {o[0] / n[0]:.1f}× faster and uses {o[1] / n[1]:.1f}× less memory")
        print(f"- official engine one-off install (npm, fresh cache): {install:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
