#!/usr/bin/env python3
"""Upload benchmark: the native engine vs the official miniprogram-ci engine, and the floor, in the
same run.

Rerun: python3 scripts/bench_upload.py   (builds the release binary; writes Markdown on stdout)

Both engines upload the same projects into the same served emulator (`mp-release emulator`, reached
by the official tool as an HTTPS proxy): the fixture `sample` project and generated projects of about
1, 15 and 30 MB (pages over six subpackages, plus incompressible images making ~76 % of the bytes).
Each measurement is the whole `mp-release upload` process, timed with GNU time (wall seconds, peak
RSS of the largest process in the tree), RUNS runs each (default 5), medians reported.

The floor is the work no engine can avoid, measured in the same run with C tools: reading every file
(`cat` to /dev/null), packing and gzipping at the native engine's choice (deflate level 1 for text,
stored blocks for files of 16 KiB or more that are not text: Python's zlib), and one POST of those
bytes to the emulator's upload endpoint (`curl`; the emulator unpacks it as it does any upload).
The one-off install time of the official engine is measured by installing it into a fresh cache.
"""
import json, os, random, shutil, statistics, struct, subprocess, sys, tempfile, time, urllib.request, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests/fixtures/miniprogram-ci")
APPID = "wx0123456789abcdef"
RUNS = int(os.environ.get("RUNS", "5"))


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def large_project(dir_, pages_per_sub=75, images=190):
    """pages_per_sub x 6 pages (js, wxml, wxss, json) over subpackages, and 60 kB images: the
    defaults give ~2,000 files, ~15 MB."""
    rnd = random.Random(42)
    os.makedirs(dir_)
    subs = []
    for s in range(6):
        pages = []
        for p in range(pages_per_sub):
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
    for i in range(images):  # incompressible, like real images
        open(os.path.join(dir_, f"images/i{i}.png"), "wb").write(rnd.randbytes(60_000))
    json.dump({"pages": ["pages/index/index"], "subPackages": subs}, open(os.path.join(dir_, "app.json"), "w"))
    open(os.path.join(dir_, "app.js"), "w").write("App({})")
    json.dump({"appid": APPID, "compileType": "miniprogram", "setting": {}}, open(os.path.join(dir_, "project.config.json"), "w"))


BINARY = (".png", ".jpg", ".jpeg", ".gif", ".mp3", ".mp4")


def floor(project, url):
    """Seconds for: reading every file, packing + gzipping as the native engine chooses, one POST."""
    files = sorted(os.path.relpath(os.path.join(d, f), project) for d, _, fs in os.walk(project) for f in fs)
    t0 = time.monotonic()
    subprocess.run(["sh", "-c", 'find . -type f -print0 | xargs -0 cat > /dev/null'], cwd=project, check=True)
    t_read = time.monotonic() - t0
    bodies = [open(os.path.join(project, f), "rb").read() for f in files] + [b'{"signature":"x","version":"2.1.42"}']
    names = ["/" + f for f in files] + ["/ci.signature"]
    t0 = time.monotonic()
    index = struct.pack(">I", len(names))
    offset = 14 + 4 + sum(12 + len(n.encode()) for n in names)
    for n, b in zip(names, bodies):
        index += struct.pack(">I", len(n.encode())) + n.encode() + struct.pack(">II", offset, len(b))
        offset += len(b)
    data_len = sum(len(b) for b in bodies)
    out = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"]
    crc, z = 0, zlib.compressobj(1, zlib.DEFLATED, -15)
    head = struct.pack(">BIIIB", 0xBE, 0, len(index), data_len, 0xED) + index
    for n, b in [("", head)] + list(zip(names, bodies)):
        crc = zlib.crc32(b, crc)
        if n.endswith(BINARY) and len(b) >= 16 << 10:
            out.append(z.flush(zlib.Z_SYNC_FLUSH))
            z = zlib.compressobj(1, zlib.DEFLATED, -15)
            for i in range(0, len(b), 65535):
                blk = b[i:i + 65535]
                out.append(struct.pack("<BHH", 0, len(blk), len(blk) ^ 0xFFFF) + blk)
        else:
            out.append(z.compress(b))
    out.append(z.flush())
    out.append(struct.pack("<II", crc, (len(head) + data_len) & 0xFFFFFFFF))
    body = b"".join(out)
    t_pack = time.monotonic() - t0
    with tempfile.NamedTemporaryFile(suffix=".gz") as f:
        f.write(body)
        f.flush()
        t0 = time.monotonic()
        subprocess.run(["curl", "-s", "-o", "/dev/null", "--data-binary", f"@{f.name}",
                        f"{url}/wxa/ci/upload?appid={APPID}&version=1.0.0"], check=True)
        t_post = time.monotonic() - t0
    return t_read, t_pack, t_post, len(body)


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    return json.load(urllib.request.urlopen(req))


def main():
    sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
    binary = os.path.join(ROOT, "target/release/mp-release")
    work = tempfile.mkdtemp(prefix="mp-release-bench-")
    try:
        projects = [("sample", os.path.join(FIX, "sample-projects/sample"))]
        for name, pages, images in [("1 MB", 8, 12), ("15 MB", 75, 190), ("30 MB", 150, 380)]:
            path = os.path.join(work, name.replace(" ", ""))
            large_project(path, pages, images)
            files = sum(len(f) for _, _, f in os.walk(path))
            size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
            projects.append((f"{name} ({files} files, {size / 1e6:.1f} MB)", path))
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
        floors = {}
        for project_name, path in projects:
            runs = [floor(path, url) for _ in range(RUNS)]
            floors[project_name] = [statistics.median(r[i] for r in runs) for i in range(4)]
            for engine in ["native", "miniprogram-ci"]:
                walls, rss = [], []
                for _ in range(RUNS):
                    cmd = ["/usr/bin/time", "-f", "%e %M", binary, "upload", "--engine", engine, "--project-path", path,
                           "--private-key-path", os.path.join(FIX, "keys/private.wx0123456789abcdef.key"),
                           "--version-from", "explicit:1.0.0", "--cache-dir", cache, "--ca-file", ca, "-q"]
                    t0 = time.monotonic()
                    p = subprocess.run(cmd, capture_output=True, text=True,
                                       env=dict(os.environ, INPUT_APPID=APPID, MP_RELEASE_UPLOAD_BASE_URL=url, MP_RELEASE_UPLOAD_TIMEOUT="600s"))
                    wall = time.monotonic() - t0
                    if p.returncode != 0:
                        sys.exit(f"{engine} on {project_name} failed:\n{p.stderr}")
                    _, m = p.stderr.strip().splitlines()[-1].split()
                    walls.append(wall)
                    rss.append(int(m) / 1024)
                results[(project_name, engine)] = (statistics.median(walls), statistics.median(rss), walls)
        emu.terminate()

        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        print(f"Machine: {os.cpu_count()} cores ({cpu}), {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; {RUNS} runs each, medians.\n")
        print("| project | engine | wall (median) | peak RSS (median) | runs (s) |")
        print("|---|---|---|---|---|")
        for (proj, eng), (w, m, walls) in results.items():
            print(f"| {proj} | {eng} | {w:.3f} s | {m:.0f} MB | {', '.join(f'{x:.3f}' for x in walls)} |")
        print()
        print("| project | floor: read | pack + gzip | POST | floor total | gzip body |")
        print("|---|---|---|---|---|---|")
        for proj, (r, p, q, n) in floors.items():
            print(f"| {proj} | {r:.3f} s | {p:.3f} s | {q:.3f} s | {r + p + q:.3f} s | {n / 1e6:.2f} MB |")
        print()
        for proj in dict.fromkeys(p for p, _ in results):
            n, o = results[(proj, "native")], results[(proj, "miniprogram-ci")]
            f = sum(floors[proj][:3])
            print(f"- {proj}: native is {o[0] / n[0]:.1f}× faster than miniprogram-ci and uses {o[1] / n[1]:.1f}× less memory; native / floor = {n[0] / f:.2f}")
        print(f"- official engine one-off install (npm, fresh cache): {install:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
