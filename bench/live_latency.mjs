#!/usr/bin/env node
// Live latency in Chromium, measured with the console itself (run by bench/live_latency.sh
// through tests/browser/run.py, which passes SARGAS_URL, SARGAS_RTSP and the administrator's
// password: each page's browser context signs in with POST /api/v1/login first):
//   node bench/live_latency.mjs [--seconds S] [--tiles 1,16] [--warmup W] [--no-peer]
// For each N in --tiles: one console page shows N cameras' sub streams live (layout 4 for up to
// 4 tiles, 9, then 16; all tiles over the console's one multiplexed live response), and for S
// seconds every frame each tile presents is caught with requestVideoFrameCallback; its barcode
// says when the fake camera sent it; latency = expectedDisplayTime (mapped to UTC) - send time.
// While the tiles play, the page also times GET /api/v1/health once a second (the console's
// API calls share the browser's 6 connections per host with the live response).
// Alongside the 1-tile run, two references for the same camera:
//   - peer: plain HLS (hls.js defaults, the way an HLS-only VMS shows live video) of the
//     recorded sub stream, /playback/sub.m3u8 with an open end (EVENT playlist that grows);
//   - RTSP arrival: how late frames reach an RTSP client straight from the camera
//     (tests/tools/rtsp_arrival.py), the floor any server adds to.
// Last lines: RESULT live_latency tiles=N p50_ms=X p95_ms=X, one per N, in the order given.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
    PAGE_HELPERS, SOURCE, check, latencyMs, launch, percentile, poll, signInContext, sleep,
} from '../tests/browser/lib.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
};
const SECONDS = Number(opt('--seconds', 60));
const WARMUP = Number(opt('--warmup', 5));
const TILES = opt('--tiles', '1,16').split(',').map(Number);
const PEER = !args.includes('--no-peer');
const URL = process.env.SARGAS_URL;
const RTSP = process.env.SARGAS_RTSP;
const CAMERAS = Number(process.env.SARGAS_CAMERAS || 16);

const log = (msg) => console.log(msg);
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');

function stats(lat) {
    return { n: lat.length, p50: percentile(lat, 50), p95: percentile(lat, 95), max: lat.length ? Math.max(...lat) : NaN,
        min: lat.length ? Math.min(...lat) : NaN };
}

// The samples of one video -> latencies (decodable frames only) and the count of bad reads.
function latencies(samples) {
    const ok = samples.filter((s) => s.ok);
    return { lat: ok.map((s) => latencyMs(s.value, s.displayUtc)), bad: samples.length - ok.length, n: samples.length };
}

function rtspArrival(seconds) {
    return new Promise((resolve) => {
        const p = spawn('python3', [join(SOURCE, 'tests', 'tools', 'rtsp_arrival.py'), `${RTSP}/cam1/sub`,
            '--seconds', String(seconds), '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        p.stdout.on('data', (d) => { out += d; });
        p.on('close', () => {
            const m = out.match(/^ARRIVAL .*$/m);
            resolve(m ? m[0] : 'ARRIVAL (no result)');
        });
    });
}

// A plain hls.js player of the recorded sub stream's growing playlist, on its own page of
// the same origin (a routed URL, so that the console's code is not involved).
async function hlsPeer(browser) {
    const ctx = await browser.newContext({ viewport: { width: 700, height: 420 } });
    await signInContext(ctx);   // the playlist and segments need a session like any API call
    const page = await ctx.newPage();
    await page.addInitScript(PAGE_HELPERS);
    const html = `<!doctype html><meta charset="utf-8"><body style="margin:0;background:#000">
<video id="v" muted autoplay playsinline style="width:640px;height:360px"></video>
<script src="/vendor/hls.min.js"></script>
<script>
  const from = new Date(Date.now() - 60000).toISOString();
  const to = new Date(Date.now() + 3600000).toISOString();
  const hls = new Hls();
  hls.loadSource('/api/v1/cameras/1/playback/sub.m3u8?from=' + from + '&to=' + to);
  hls.attachMedia(document.getElementById('v'));
</script>`;
    await page.route(URL + '/__bench/hls.html', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
    await page.goto(URL + '/__bench/hls.html');
    return page;
}

async function consolePage(browser) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await signInContext(ctx);   // the console opens signed in, without its login page
    const page = await ctx.newPage();
    await page.addInitScript(PAGE_HELPERS);
    await page.goto(URL + '/');
    await poll(() => page.evaluate((n) => document.querySelectorAll('#cameras button.cam').length === n, CAMERAS),
        15000, `${CAMERAS} cameras listed`);
    return page;
}

const layoutFor = (n) => [4, 9, 16].find((l) => l >= n);

// Tiles 0..count-1 show cameras 1..count (sub streams), the rest of the page nothing.
async function showTiles(page, count) {
    const layout = layoutFor(count);
    await page.evaluate(({ count, layout }) => {
        window.sargas.setLayout(layout);
        for (let i = 0; i < 16; i++) window.sargas.assign(i, i < count ? i + 1 : null);
    }, { count, layout });
    await poll(async () => {
        const s = await page.evaluate(() => window.sargas.state());
        return s.layout === layout && s.tiles.slice(0, count).every((x, i) => x.camera === i + 1 && x.mode === 'live' && x.stream === 'sub') &&
            s.tiles.slice(count).every((x) => x.camera == null);
    }, 10000, `${count} live sub-stream tiles`);
    const started = Date.now();
    const playing = () => page.evaluate((n) => [...document.querySelectorAll('#grid .tile video')].slice(0, n)
        .map((v) => !v.paused && v.readyState >= 3 && v.getVideoPlaybackQuality().totalVideoFrames > 25), count);
    try {
        await poll(async () => (await playing()).every(Boolean), 30000, `${count} tiles playing`);
    } catch (e) {
        const p = await playing();
        const msgs = await page.evaluate(() => [...document.querySelectorAll('#grid .tile .msg')].map((m) => m.textContent));
        throw new Error(`${e.message}: ${p.filter(Boolean).length} of ${count} play; tiles not playing: ` +
            p.map((x, i) => (x ? null : `${i + 1} ("${msgs[i]}")`)).filter(Boolean).join(', '));
    }
    return { layout, playingAfterMs: Date.now() - started };
}

// GET /api/v1/health from the page once a second for `seconds`: the times in ms (null: no
// answer within 5 s).
const apiTimes = (page, seconds) => page.evaluate(async (seconds) => {
    const out = [];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
        const t0 = performance.now();
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), 5000);
        try {
            const r = await fetch('/api/v1/health', { cache: 'no-store', signal: ctl.signal });
            await r.json();
            out.push(r.ok ? performance.now() - t0 : null);
        } catch {
            out.push(null);
        }
        clearTimeout(timer);
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - t0))));
    }
    return out;
}, seconds);

const quality = (page, n) => page.evaluate((n) => [...document.querySelectorAll('#grid .tile video')].slice(0, n).map((v) => {
    const q = v.getVideoPlaybackQuality();
    return { total: q.totalVideoFrames, dropped: q.droppedVideoFrames };
}), n);

async function measure(page, n, peerPage) {
    const shown = await showTiles(page, n);
    await sleep(WARMUP * 1000);
    const q0 = await quality(page, n);
    const arrival = n === 1 && RTSP ? rtspArrival(Math.min(SECONDS, 20)) : null;
    const peer = peerPage ? peerPage.evaluate((s) => window.__sgbar.sample([document.getElementById('v')], s), SECONDS) : null;
    const apis = apiTimes(page, SECONDS);
    const cpu0 = cpuSeconds(process.env.SARGAS_PID);
    const samples = await page.evaluate(({ n, s }) =>
        window.__sgbar.sample([...document.querySelectorAll('#grid .tile video')].slice(0, n), s), { n, s: SECONDS });
    const cpu1 = cpuSeconds(process.env.SARGAS_PID);
    const q1 = await quality(page, n);
    const api = await apis;
    const per = samples.map(latencies);
    const all = per.flatMap((x) => x.lat);
    const st = stats(all);
    const bad = per.reduce((a, x) => a + x.bad, 0);
    let dropped = 0, decoded = 0;
    q1.forEach((q, i) => { dropped += q.dropped - q0[i].dropped; decoded += q.total - q0[i].total; });
    log(`--- ${n} tile(s) in one console page (layout ${shown.layout}, one live response), ${SECONDS} s, ` +
        `sub streams 640x360 25 fps; all playing ${(shown.playingAfterMs / 1000).toFixed(1)} s after the layout was set`);
    log(`frames presented and read: ${st.n} (${(st.n / n / SECONDS).toFixed(1)} per tile per s), barcode unreadable: ${bad}, ` +
        `decoded: ${decoded}, dropped by the player: ${dropped}`);
    log(`latency ms: p50 ${fmt(st.p50)} p95 ${fmt(st.p95)} min ${fmt(st.min)} max ${fmt(st.max)}`);
    if (n > 1) {
        log(`per tile p50 ms: ${per.map((x) => fmt(percentile(x.lat, 50))).join(' ')}`);
        log(`per tile p95 ms: ${per.map((x) => fmt(percentile(x.lat, 95))).join(' ')}`);
    }
    const answered = api.filter((x) => x != null);
    log(`GET /api/v1/health from the page meanwhile: ${answered.length} of ${api.length} answered, ms p50 ` +
        `${fmt(percentile(answered, 50))} max ${fmt(answered.length ? Math.max(...answered) : NaN)}`);
    if (cpu0 != null) log(`sargasd CPU during the run: ${((cpu1 - cpu0) / SECONDS * 100).toFixed(1)} % of one core ` +
        `(recording ${CAMERAS} cameras main + sub, serving ${n} live stream(s))`);
    if (peer) {
        const p = latencies((await peer)[0]);
        const ps = stats(p.lat);
        log(`peer, plain HLS (hls.js defaults) of the recorded cam1 sub stream: p50 ${fmt(ps.p50)} ms p95 ${fmt(ps.p95)} ms ` +
            `(${ps.n} frames, ${p.bad} unreadable)`);
    }
    if (arrival) log(`reference, RTSP straight from the camera (rtsp_arrival.py, cam1/sub): ${await arrival}`);
    check(st.n > 0, `no frame presented in ${n} tile(s)`);
    check(samples.every((x) => x.length > 0), `a tile presented no frame: ${samples.map((x) => x.length).join(' ')}`);
    return st;
}

function cpuSeconds(pid) {
    if (!pid) return null;
    try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop().trim().split(/\s+/);
        return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
        return null;
    }
}

async function main() {
    check(URL, 'SARGAS_URL is not set: run bench/live_latency.sh');
    check(Math.max(...TILES) <= CAMERAS, `--tiles asks for more than the ${CAMERAS} cameras`);
    const browser = await launch();
    const results = [];
    try {
        log(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
        const page = await consolePage(browser);
        for (const n of TILES) {
            let peerPage = null;
            if (n === 1 && PEER) {
                peerPage = await hlsPeer(browser);
                await poll(() => peerPage.evaluate(() => {
                    const v = document.getElementById('v');
                    return !v.paused && v.readyState >= 3;
                }), 60000, 'the HLS peer to play');
            }
            results.push([n, await measure(page, n, peerPage)]);
            if (peerPage) await peerPage.context().close();
        }
        await page.context().close();
    } finally {
        await browser.close();
    }
    for (const [n, st] of results) console.log(`RESULT live_latency tiles=${n} p50_ms=${fmt(st.p50)} p95_ms=${fmt(st.p95)}`);
}

main().catch((e) => {
    console.log(`live_latency: FAILED: ${e.message}`);
    process.exit(1);
});
