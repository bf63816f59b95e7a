#!/usr/bin/env node
// The operators' console in Chromium against a real sargasd with 4 fake cameras (started by
// tests/browser/run.py, which passes SARGAS_URL). No test framework: each step polls with a
// deadline and the script exits 1 with a message at the first failure.
//   a. the console loads without console errors or failed requests; the language switch
//      changes the visible text (lt, lv, en);
//   b. layout 4 plays 4 cameras live at once (currentTime and decoded frames advance);
//   c. a live tile's barcode decodes and the frame was sent less than 1.5 s before it was shown;
//   d. a click on the timeline at a recorded moment T plays from T: the barcode of the shown
//      frame matches T plus the time played, and the tile's own UTC (window.sargas.state());
//   e. "Live" returns every tile to live video;
//   f. layout 16 with the 4 cameras 4 times each: all 16 tiles play over the one multiplexed
//      live response (/api/v1/live?streams=..., each stream once) and the API still answers
//      within 2 s while they play (Chromium opens only 6 connections per host); an enlarged
//      tile switches to the main stream and plays it; the per-camera live URL is never used;
//   g. screenshots (4 live tiles, playback, 16 live tiles) in $SG_ARTIFACTS or build/test-artifacts/.
import { join } from 'node:path';
import {
    Failure, PAGE_HELPERS, artifactsDir, check, counterNear, latencyMs, launch, percentile, poll, watchPage,
} from './lib.mjs';

const URL = process.env.SARGAS_URL;
const CAMERAS = 4;
const GOP_MS = 2000;
const LIVE_MAX_MS = 1500;

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const rfc = (ms) => new Date(ms).toISOString();

async function api(path) {
    const r = await fetch(URL + '/api/v1' + path);
    check(r.ok, `GET ${path}: HTTP ${r.status}`);
    return r.json();
}

const state = (page) => page.evaluate(() => window.sargas.state());

// Per tile: {currentTime, frames} of the <video> in tiles 0..n-1.
const videoStats = (page, n) => page.evaluate((n) => [...document.querySelectorAll('#grid .tile')].slice(0, n).map((tile) => {
    const v = tile.querySelector('video');
    if (!v) return null;
    return { camera: v.dataset.camera, stream: v.dataset.stream, mode: v.dataset.mode, currentTime: v.currentTime,
        frames: v.getVideoPlaybackQuality().totalVideoFrames, paused: v.paused, readyState: v.readyState };
}), n);

function noProblems(problems, step) {
    check(!problems.length, `${step}: ${problems.length} problem(s) on the page:\n  ${problems.join('\n  ')}`);
}

// ---- a. loading and languages ---------------------------------------------------------------
async function loadsAndTranslates(page, problems) {
    await page.goto(URL + '/', { waitUntil: 'load' });
    await poll(() => page.evaluate((n) => document.querySelectorAll('#cameras button.cam').length === n, CAMERAS),
        15000, `${CAMERAS} cameras in the camera list`);
    await poll(async () => (await page.textContent('#health')).trim() !== '', 15000, 'the health indicator');
    // the visible text of a few fixed elements, per language
    const texts = async () => page.evaluate(() => ({
        lang: document.documentElement.lang,
        title: document.title,
        live: document.querySelector('#goto-live').textContent.trim(),
        cams: document.querySelector('#cams-title').textContent.trim(),
        go: document.querySelector('#goto-time').textContent.trim(),
        hint: document.querySelector('.sidebar .hint').textContent.trim(),
        tile: document.querySelector('#grid .tile .msg').textContent.trim(),
    }));
    const seen = {};
    for (const lang of ['lt', 'lv', 'en']) {
        await page.selectOption('#lang', lang);
        await poll(async () => (await texts()).lang === lang, 5000, `<html lang="${lang}">`);
        seen[lang] = await texts();
        log(`language ${lang}: "${seen[lang].cams}", "${seen[lang].live}", "${seen[lang].tile}"`);
        for (const [k, v] of Object.entries(seen[lang])) check(v, `language ${lang}: ${k} is empty`);
    }
    for (const [a, b] of [['en', 'lt'], ['en', 'lv'], ['lt', 'lv']]) {
        for (const k of ['cams', 'hint', 'tile', 'title']) {
            check(seen[a][k] !== seen[b][k], `the ${k} text is the same in ${a} and ${b}: "${seen[a][k]}"`);
        }
    }
    check(seen.en.cams === 'Cameras' && seen.en.live === 'Live', `English text expected back: ${JSON.stringify(seen.en)}`);
    noProblems(problems, 'loading the console');
}

// ---- b. four cameras live -------------------------------------------------------------------
async function fourLive(page) {
    await page.click('#layout-4');
    for (let i = 0; i < CAMERAS; i++) await page.click(`#cameras button.cam[data-camera="${i + 1}"]`);
    await poll(async () => {
        const s = await state(page);
        return s.layout === 4 && s.mode === 'live' &&
            s.tiles.every((x, i) => x.camera === i + 1 && x.mode === 'live' && x.stream === 'sub');
    }, 10000, 'layout 4 with cameras 1-4 live on their sub streams');
    // every tile plays: wait until each has frames, then until each advanced by 2 s
    const first = await poll(async () => {
        const v = await videoStats(page, CAMERAS);
        return v.every((x) => x && x.frames > 0 && x.currentTime > 0) && v;
    }, 20000, 'a decoded frame in each of the 4 tiles');
    const moved = await poll(async () => {
        const v = await videoStats(page, CAMERAS);
        return v.every((x, i) => x.currentTime >= first[i].currentTime + 2 && x.frames >= first[i].frames + 25) && v;
    }, 20000, 'all 4 tiles to advance 2 s and 25 frames');
    log('4 tiles live: ' + moved.map((x, i) => `cam${x.camera} +${(x.currentTime - first[i].currentTime).toFixed(1)} s ` +
        `+${x.frames - first[i].frames} frames`).join(', '));
}

// ---- c. the barcode of live tiles -------------------------------------------------------------
async function liveBarcode(page, what) {
    for (let i = 0; i < CAMERAS; i++) {
        const lat = [];
        for (let k = 0; k < 10; k++) {
            const f = await page.evaluate((i) => window.__sgbar.next(document.querySelectorAll('#grid .tile video')[i], 3000), i);
            check(f, `${what}: tile ${i} presented no frame for 3 s`);
            check(f.ok, `${what}: tile ${i}: the barcode does not decode (block luma ${f.lum.join(' ')})`);
            lat.push(latencyMs(f.value, f.displayUtc));
        }
        const p50 = percentile(lat, 50);
        log(`${what}: tile ${i} latency ms ${lat.map((x) => x.toFixed(0)).join(' ')} (median ${p50.toFixed(0)})`);
        check(p50 < LIVE_MAX_MS, `${what}: tile ${i} shows frames ${p50.toFixed(0)} ms after they were sent ` +
            `(median of 10), more than ${LIVE_MAX_MS} ms`);
    }
}

// ---- d. seeking on the timeline -------------------------------------------------------------
async function recordedSpan() {
    // camera 1 main and sub (the tile plays sub: the cameras record it) both recorded
    const spans = async (stream) => {
        const now = Date.now();
        const r = await api(`/cameras/1/recordings?from=${rfc(now - 600e3)}&to=${rfc(now)}&stream=${stream}`);
        return r.spans.map((s) => [Date.parse(s.start), Date.parse(s.end)]);
    };
    return poll(async () => {
        const [m, s] = [await spans('main'), await spans('sub')];
        if (!m.length || !s.length) return null;
        const a = m[m.length - 1], b = s[s.length - 1];
        const from = Math.max(a[0], b[0]), to = Math.min(a[1], b[1]);
        return to - from >= 30000 ? { from, to } : null;
    }, 90000, '30 s recorded by camera 1 (main and sub)', 1000);
}

async function seekOnTimeline(page) {
    const span = await recordedSpan();
    log(`recorded: ${rfc(span.from)} .. ${rfc(span.to)}`);
    await page.click('#zoom-10m');
    await poll(async () => {
        const a = await page.getAttribute('#timeline', 'data-from-ms'), b = await page.getAttribute('#timeline', 'data-to-ms');
        return Number(b) - Number(a) === 600e3;
    }, 5000, 'a 10-minute timeline window');
    // a moment well inside, away from the ends; not on a keyframe
    const T = span.from + 5000 + Math.floor(Math.random() * (span.to - span.from - 15000)) + 520;
    const box = await page.locator('#timeline').boundingBox();
    const from = Number(await page.getAttribute('#timeline', 'data-from-ms'));
    const to = Number(await page.getAttribute('#timeline', 'data-to-ms'));
    check(T > from && T < to, `T ${rfc(T)} outside the timeline window ${rfc(from)}..${rfc(to)}`);
    const x = ((T - from) / (to - from)) * box.width;
    const pxMs = (to - from) / box.width;
    log(`click the timeline at x=${x.toFixed(1)} of ${box.width} px (${pxMs.toFixed(0)} ms per px) for T=${rfc(T)}`);
    const clickedAt = Date.now();
    await page.mouse.click(box.x + x, box.y + box.height / 3);
    // the console takes the moment from the click: the playhead says what it understood
    const st = await poll(async () => {
        const s = await state(page);
        return s.mode === 'playback' && s.masterUtcMs != null && s;
    }, 5000, 'playback mode after the click');
    await poll(async () => {
        const s = await state(page);
        return s.tiles.every((x) => x.mode === 'playback');
    }, 5000, 'every tile in playback mode');
    const firstFrame = await poll(async () => {
        const v = await page.evaluate(() => {
            const video = document.querySelector('#grid .tile[data-index="0"] video');
            return video && video.dataset.mode === 'playback' && !video.paused && video.readyState >= 3 ? window.__sgbar.next(video, 2000) : null;
        });
        return v && v.ok ? v : null;
    }, 15000, 'tile 0 to play the recording');
    const seekMs = firstFrame.displayUtc - clickedAt;
    log(`tile 0 plays ${(seekMs / 1000).toFixed(2)} s after the click; master clock at ${rfc(st.masterUtcMs)} right after it`);
    check(Math.abs(st.masterUtcMs - T) < 2 * pxMs + 1000, `the console seeks to ${rfc(st.masterUtcMs)}, clicked for ${rfc(T)}`);

    // Let it play a few seconds, then compare the frame on screen with T + time played (the
    // media time since the first frame) and with the tile's own UTC.
    await poll(async () => {
        const v = await videoStats(page, 1);
        return v[0].currentTime > firstFrame.currentTime + 3;
    }, 15000, 'tile 0 to play 3 s of the recording');
    const r = await page.evaluate(async () => {
        const video = document.querySelector('#grid .tile[data-index="0"] video');
        const f = await window.__sgbar.next(video, 2000);
        // the console's own idea of what tile 0 shows, read at the same frame
        const s = window.sargas.state();
        return { f, utcMs: s.tiles[0].utcMs };
    });
    check(r.f && r.f.ok, `playback: the barcode does not decode (${r.f && r.f.lum.join(' ')})`);
    const played = (r.f.mediaTime - firstFrame.mediaTime) * 1000;
    const expected = T + played;
    const shown = counterNear(r.f.value, expected) * 40;
    const first = counterNear(firstFrame.value, T) * 40;
    log(`first frame after the seek was sent at ${rfc(first)} (T ${first >= T ? '+' : ''}${first - T} ms); ` +
        `after ${(played / 1000).toFixed(2)} s of play: frame sent at ${rfc(shown)}, T + played = ${rfc(expected)} ` +
        `(${(shown - expected).toFixed(0)} ms), tile UTC ${r.utcMs == null ? 'null' : rfc(r.utcMs)}`);
    check(Math.abs(first - T) <= GOP_MS, `the first frame after the seek was sent at ${rfc(first)}, ${first - T} ms from T=${rfc(T)}`);
    check(Math.abs(shown - expected) <= GOP_MS,
        `after playing ${(played / 1000).toFixed(2)} s the shown frame was sent at ${rfc(shown)}, ` +
        `${(shown - expected).toFixed(0)} ms from T + played = ${rfc(expected)}`);
    check(r.utcMs != null, 'window.sargas.state().tiles[0].utcMs is null while tile 0 plays');
    check(Math.abs(shown - r.utcMs) <= GOP_MS,
        `tile 0 says it shows ${rfc(r.utcMs)}; its frame was sent at ${rfc(shown)} (${(shown - r.utcMs).toFixed(0)} ms)`);
    // the other tiles play the same moment (synchronised playback)
    const others = await poll(async () => {
        const s = await state(page);
        return s.tiles.every((x) => x.utcMs != null) && s;
    }, 10000, 'every tile to show a recorded moment');
    const spread = Math.max(...others.tiles.map((x) => x.utcMs)) - Math.min(...others.tiles.map((x) => x.utcMs));
    log(`tiles show ${others.tiles.map((x) => rfc(x.utcMs).slice(11, 23)).join(', ')} (spread ${spread.toFixed(0)} ms)`);
    check(spread < 1000, `the playback tiles are ${spread.toFixed(0)} ms apart`);

    // Rolling over: the console asked for a ROLL_S-second playlist window (main() set it), so
    // playback must go on past its end with the next window, at the right moment, without
    // falling back to where it started.
    const crossed = await poll(async () => {
        const r = await page.evaluate(async () => {
            const video = document.querySelector('#grid .tile[data-index="0"] video');
            const f = await window.__sgbar.next(video, 2000);
            return { f, utcMs: window.sargas.state().tiles[0].utcMs };
        });
        if (!r.f || !r.f.ok || r.utcMs == null) return null;
        const sent = counterNear(r.f.value, r.utcMs) * 40;
        check(sent >= first - GOP_MS, `playback went back to ${rfc(sent)}, before the first frame ${rfc(first)}`);
        return sent > T + (ROLL_S + 3) * 1000 ? { sent, utcMs: r.utcMs } : null;
    }, 30000, `playback to go on past the end of its first ${ROLL_S}-s playlist window`);
    log(`past the first playlist window: frame sent at ${rfc(crossed.sent)}, tile UTC ${rfc(crossed.utcMs)}`);
    check(Math.abs(crossed.sent - crossed.utcMs) <= GOP_MS,
        `after the window rollover tile 0 says ${rfc(crossed.utcMs)} but shows a frame sent at ${rfc(crossed.sent)}`);
}

// ---- e. back to live ------------------------------------------------------------------------
async function backToLive(page) {
    await page.click('#goto-live');
    await poll(async () => {
        const s = await state(page);
        return s.mode === 'live' && s.tiles.every((x, i) => x.camera === i + 1 && x.mode === 'live');
    }, 5000, 'live mode on every tile after #goto-live');
    const first = await poll(async () => {
        const v = await videoStats(page, CAMERAS);
        return v.every((x) => x && x.mode === 'live' && x.frames > 0) && v;
    }, 20000, 'frames in every live tile after #goto-live');
    await poll(async () => {
        const v = await videoStats(page, CAMERAS);
        return v.every((x, i) => x.currentTime >= first[i].currentTime + 1 && x.frames > first[i].frames + 10);
    }, 20000, 'every live tile to advance after #goto-live');
    log('back to live: 4 tiles play');
}

// ---- f. sixteen tiles over one response ------------------------------------------------------
const TILES16 = 16;
const API_MAX_MS = 2000;
const streamsOf = (url) => decodeURIComponent(((url || '').match(/[?&]streams=([^&]*)/) || [])[1] || '');

// Times GET `path` from the page (null: no answer within API_MAX_MS).
const timedFetch = (page, paths) => page.evaluate(async ({ paths, max }) => Promise.all(paths.map(async (path) => {
    const t0 = performance.now();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), max);
    try {
        const r = await fetch(path, { cache: 'no-store', signal: ctl.signal });
        await r.json();
        return { path, status: r.status, ms: performance.now() - t0 };
    } catch (e) {
        return { path, status: null, ms: performance.now() - t0, error: String(e) };
    } finally {
        clearTimeout(timer);
    }
})), { paths, max: API_MAX_MS });

async function sixteenLive(page, liveUrls) {
    const wanted = Array.from({ length: TILES16 }, (_, i) => (i % CAMERAS) + 1);
    await page.evaluate((wanted) => {
        window.sargas.setLayout(16);
        wanted.forEach((id, i) => window.sargas.assign(i, id));
    }, wanted);
    await poll(async () => {
        const s = await state(page);
        return s.layout === 16 && s.mode === 'live' && s.tiles.length === TILES16 &&
            s.tiles.every((x, i) => x.camera === wanted[i] && x.mode === 'live' && x.stream === 'sub' && x.visible);
    }, 10000, `layout 16 with cameras ${wanted.join(',')} live on their sub streams`);
    const started = Date.now();
    const first = await poll(async () => {
        const v = await videoStats(page, TILES16);
        return v.every((x) => x && x.frames > 0 && x.currentTime > 0) && v;
    }, 30000, `a decoded frame in each of the ${TILES16} tiles`);
    log(`16 tiles: a frame in each after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // the API while 16 tiles play: one at a time, then six at once (all a page may open)
    const one = [];
    for (let k = 0; k < 3; k++) one.push(...await timedFetch(page, ['/api/v1/health']));
    const six = await timedFetch(page, ['/api/v1/health', '/api/v1/cameras', '/api/v1/health', '/api/v1/cameras',
        '/api/v1/health', '/api/v1/cameras']);
    log(`API while 16 tiles play, ms: health ${one.map((x) => x.ms.toFixed(0)).join(' ')}; ` +
        `6 at once ${six.map((x) => x.ms.toFixed(0)).join(' ')}`);
    for (const x of [...one, ...six]) {
        check(x.status === 200 && x.ms < API_MAX_MS, `GET ${x.path} while 16 live tiles play: ` +
            (x.status == null ? `no answer within ${API_MAX_MS} ms (${x.error})` : `HTTP ${x.status} after ${x.ms.toFixed(0)} ms`));
    }
    const moved = await poll(async () => {
        const v = await videoStats(page, TILES16);
        return v.every((x, i) => x.currentTime >= first[i].currentTime + 2 && x.frames >= first[i].frames + 25) && v;
    }, 30000, `all ${TILES16} tiles to advance 2 s and 25 frames`);
    log('16 tiles live: ' + moved.map((x, i) => `+${(x.currentTime - first[i].currentTime).toFixed(1)}s/` +
        `+${x.frames - first[i].frames}f`).join(' '));
    // one response, each stream once
    const streams = streamsOf(liveUrls[liveUrls.length - 1]);
    const expect = wanted.slice(0, CAMERAS).map((id) => `${id}:sub`).join(',');
    check(streams === expect, `the live response asks for streams=${streams}, expected ${expect}`);

    // enlarged: tile 5 (camera 2) alone, on its main stream (the set of streams changes)
    await page.evaluate(() => window.sargas.enlarge(5));
    const big = await poll(async () => {
        const v = await page.evaluate(() => {
            const x = document.querySelector('#grid .tile[data-index="5"] video');
            return x && { stream: x.dataset.stream, currentTime: x.currentTime, frames: x.getVideoPlaybackQuality().totalVideoFrames };
        });
        return v && v.stream === 'main' && v.frames > 0 && v;
    }, 20000, 'the enlarged tile 5 to show the main stream');
    await poll(async () => {
        const t = await page.evaluate(() => document.querySelector('#grid .tile[data-index="5"] video').currentTime);
        return t >= big.currentTime + 1;
    }, 20000, 'the enlarged tile to play its main stream');
    const s2 = streamsOf(liveUrls[liveUrls.length - 1]);
    log(`enlarged tile 5 plays camera 2 main; the live response asks for ${s2}`);
    check(s2.split(',').includes('2:main'), `enlarged: the live response asks for streams=${s2}, no 2:main`);
    await page.evaluate(() => window.sargas.enlarge(null));
    await poll(async () => {
        const v = await videoStats(page, TILES16);
        return v.every((x) => x && x.stream === 'sub' && x.frames > 0);
    }, 20000, 'all 16 tiles back on their sub streams');
}

const ROLL_S = 6; // playlist window for step d (the console's default is ten minutes)

async function main() {
    check(URL, 'SARGAS_URL is not set: run this through tests/browser/run.py');
    const browser = await launch();
    const shots = [];
    try {
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
        const page = await ctx.newPage();
        await page.addInitScript(PAGE_HELPERS);
        const problems = watchPage(page);
        const dir = artifactsDir();
        // the console's live requests: only the multiplexed one (/api/v1/live?streams=...)
        const liveUrls = [], perCamera = [];
        page.on('request', (r) => {
            if (/\/api\/v1\/live\?/.test(r.url())) liveUrls.push(r.url());
            if (/\/api\/v1\/cameras\/\d+\/live\//.test(r.url())) perCamera.push(r.url());
        });

        log('a. load, languages');
        await loadsAndTranslates(page, problems);
        log('b. layout 4 live');
        await fourLive(page);
        log('c. live barcode');
        await liveBarcode(page, 'live');
        shots.push(join(dir, 'console-live-4.png'));
        await page.screenshot({ path: shots[shots.length - 1] });
        log('d. seek on the timeline');
        await page.evaluate((s) => localStorage.setItem('sargas.playlistWindowS', String(s)), ROLL_S);
        await seekOnTimeline(page);
        shots.push(join(dir, 'console-playback.png'));
        await page.screenshot({ path: shots[shots.length - 1] });
        log('e. back to live');
        await backToLive(page);
        await liveBarcode(page, 'live again');
        log('f. layout 16 over one live response');
        await sixteenLive(page, liveUrls);
        shots.push(join(dir, 'console-live-16.png'));
        await page.screenshot({ path: shots[shots.length - 1] });
        log(`live responses opened: ${liveUrls.length}; per-camera live URLs: ${perCamera.length}`);
        check(!perCamera.length, `the console used the per-camera live URL: ${perCamera[0]}`);
        noProblems(problems, 'the whole run');
    } finally {
        await browser.close();
        for (const s of shots) console.log(`screenshot: ${s}`);
    }
}

main().then(() => {
    console.log(`PASS browser_console (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}, (e) => {
    console.log(`FAIL browser_console (${((Date.now() - t0) / 1000).toFixed(1)} s): ${e instanceof Failure ? e.message : e.stack}`);
    process.exit(1);
});
