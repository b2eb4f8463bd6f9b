//! Emulator benchmark: start-up time and requests per second on its single server thread.
//!
//! Run: `cargo bench -p mp-release-emulator --bench throughput` (figures go to docs/benchmarks.md).
//! The server runs on one thread (a current-thread runtime), so its rate is a one-core figure; the
//! load comes from client threads over keep-alive loopback connections.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use mp_release_emulator::{AppSpec, Emulator, Request, Scenario, World};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

const C: &str = "wxc0c0c0c0c0c0c0c0";
const A: &str = "wxa1a1a1a1a1a1a1a1";
const RUNS: usize = 7;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One request/response on a keep-alive connection; returns the body length.
fn roundtrip(s: &mut TcpStream, r: &mut BufReader<TcpStream>, target: &str) -> usize {
    s.write_all(format!("GET {target} HTTP/1.1\r\nHost: b\r\n\r\n").as_bytes())
        .unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.trim().parse().unwrap();
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).unwrap();
    length
}

fn world_with_token() -> (World, String) {
    let mut w = World::new(Scenario::default());
    let ticket = w.add_platform(C, "s");
    let reg = w.add_app(AppSpec::authorized(A, C));
    let comp = w
        .handle(&Request::post("/cgi-bin/component/api_component_token", &[], &json!({ "component_appid": C, "component_appsecret": "s", "component_verify_ticket": ticket })))
        .body_json()
        .unwrap();
    let ct = comp["component_access_token"].as_str().unwrap().to_owned();
    let auth = w
        .handle(&Request::post("/cgi-bin/component/api_authorizer_token", &[("access_token", &ct)], &json!({ "component_appid": C, "authorizer_appid": A, "authorizer_refresh_token": reg.refresh_token })))
        .body_json()
        .unwrap();
    (
        w,
        auth["authorizer_access_token"].as_str().unwrap().to_owned(),
    )
}

fn startup() -> f64 {
    let samples = (0..50)
        .map(|_| {
            let t0 = Instant::now();
            let emu = Emulator::start();
            let mut s = TcpStream::connect(emu.addr()).unwrap();
            s.set_nodelay(true).unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            roundtrip(&mut s, &mut r, "/__emulator/clock");
            t0.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(samples)
}

fn throughput(clients: usize, per_client: usize) -> f64 {
    let (world, token) = world_with_token();
    let emu = Emulator::start_with(world);
    let target = format!("/wxa/get_category?access_token={token}");
    let t0 = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            let target = target.clone();
            let addr = emu.addr();
            scope.spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                for _ in 0..per_client {
                    assert!(roundtrip(&mut s, &mut r, &target) > 0);
                }
            });
        }
    });
    let elapsed = t0.elapsed();
    assert_eq!(
        emu.world().successes("/wxa/get_category"),
        clients * per_client
    );
    (clients * per_client) as f64 / elapsed.as_secs_f64()
}

fn main() {
    let start_ms = startup();
    println!("startup (Emulator::start + first answer), median of 50: {start_ms:.2} ms");
    for clients in [1, 4] {
        let rates: Vec<f64> = (0..RUNS).map(|_| throughput(clients, 5_000)).collect();
        println!(
            "get_category, {clients} keep-alive connection(s), 5,000 requests each: median {:.0} req/s (min {:.0}, max {:.0}) over {RUNS} runs",
            median(rates.clone()),
            rates.iter().copied().fold(f64::INFINITY, f64::min),
            rates.iter().copied().fold(0.0, f64::max),
        );
    }
}
