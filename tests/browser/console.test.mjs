#!/usr/bin/env node
// The operators' console in Chromium against a real sargasd with 4 fake cameras (started by
// tests/browser/run.py, which passes SARGAS_URL, the administrator's password and API token,
// and the users it made: SARGAS_USERS). No test framework: each step polls with a deadline
// and the script exits 1 with a message at the first failure.
//   0. the console opens on the login page; the administrator signs in through it; the top
//      bar shows the user, the role and the site;
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
//   g. the users page: the administrator creates an operator "op1" for granted cameras only
//      and allows cameras 1 and 2 in the grants editor, and an auditor "dpo"; the server
//      holds what the page sent; the viewer made by run.py (camera 4 denied) shows its deny;
//   h. in a fresh browser, op1 signs in and sees exactly cameras 1 and 2 (list, grid), plays
//      them live and plays back camera 1 from a timeline click; the names of cameras 3 and
//      4 appear nowhere in the page, and camera 3's API answers 404; no users, audit or
//      download (operators have no export);
//   i. the viewer sees live video of cameras 1-3 and no timeline or playback controls;
//   j. the auditor sees no video at all (no <video>, no media request): the camera register
//      and the audit page; users read-only;
//   k. sign-in errors: a wrong password says so; repeated failures say how many seconds to
//      wait (HTTP 429, Retry-After); the first-administrator form (shown while the server
//      says setup is required) explains a wrong setup token; after "Sign out" the API
//      answers 401 and the login page is back;
//   l. the auditor filters the audit trail by op1 and finds op1's login, live.start and
//      playback of camera 1 (polled: entries are written as things happen); the "Export
//      CSV" link, with the same filters, returns text/csv with those rows;
//   m. screenshots (login, 4 live tiles, playback, 16 live tiles, users, events, zones,
//      add to case, marked ranges, case with its export, audit) in $SG_ARTIFACTS or build/test-artifacts/;
//   n. motion (administrator): the timeline's heat strip of camera 1 (window.sargas.activity)
//      has non-zero cells within the last 5 minutes; the events page lists an event of
//      camera 1 whose thumbnail loaded (naturalWidth > 0), and a click on it plays camera 1
//      from a little before the event's start (barcode and tile UTC agree with it); the zone
//      editor of camera 2: a 4-point mask drawn by clicking on the snapshot is saved and
//      GET /cameras/2/zones holds it (4 points in 0..1); a 2-point zone is refused by the
//      server and the editor shows its message. The auditor has no events page and never
//      loads a thumbnail. "Add to case…" under the event's card puts it into a new case: the
//      server holds one item of camera 1 for that event, from 10 s before its start.
//   o. evidence: the investigator made by run.py signs in, plays back camera 1 and then
//      camera 2 from timeline clicks, marks a range of each ("Mark in", "+10 s", "Mark out")
//      and adds it to a case ("Add to case…": a new case the first time, the same case the
//      second); the server holds the two items (cameras 1 and 2, the marked ranges, locked).
//      On the cases page the case shows both items; the investigator exports it with a
//      reason, the job's progress shows until it is done, and the package downloads: a ZIP
//      whose SHA-256 is the job's, holding export-N/manifest.json, manifest.sig, README.txt
//      and two media files listed in the manifest (cameras 1 and 2, sizes and hashes as
//      listed); the page shows the site key's fingerprint as GET /api/v1/site gives it, its
//      key link returns the public key, and the verifier command names site-N.pub and
//      export-N. Releasing camera 2's lock without a reason is refused in the dialog, with
//      one it is done (the server holds the reason). The operator then sees the case (camera
//      2 released) without Release, Close or Export; the viewer has no cases page.
import { createHash } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
    Failure, PAGE_HELPERS, artifactsDir, check, counterNear, latencyMs, launch, percentile, poll, readZip, watchPage,
} from './lib.mjs';

const URL = process.env.SARGAS_URL;
const ADMIN = process.env.SARGAS_ADMIN_USER || 'admin';
const ADMIN_PASSWORD = process.env.SARGAS_ADMIN_PASSWORD;
const TOKEN = process.env.SARGAS_TOKEN;
const USERS = JSON.parse(process.env.SARGAS_USERS || '[]');
const CAMERAS = 4;
const GOP_MS = 2000;
const LIVE_MAX_MS = 1500;

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const rfc = (ms) => new Date(ms).toISOString();

// The API as the administrator's token (not the browser's session).
async function api(path) {
    const r = await fetch(URL + '/api/v1' + path, { headers: { Authorization: `Bearer ${TOKEN}` } });
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
        users: document.querySelector('#nav-users').textContent.trim(),
        logout: document.querySelector('#logout').textContent.trim(),
        role: document.querySelector('#acct-role').textContent.trim(),
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
        for (const k of ['cams', 'hint', 'tile', 'title', 'users', 'logout', 'role']) {
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

// tiles: how many tiles of the grid show cameras; rollover: also check playback going on
// past the end of the ROLL_S-second playlist window (main() sets it for the admin's page).
async function seekOnTimeline(page, { tiles = CAMERAS, rollover = true } = {}) {
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
        return s.tiles.slice(0, tiles).every((x) => x.mode === 'playback');
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
        return s.tiles.slice(0, tiles).every((x) => x.utcMs != null) && s.tiles.slice(0, tiles);
    }, 10000, 'every tile to show a recorded moment');
    const spread = Math.max(...others.map((x) => x.utcMs)) - Math.min(...others.map((x) => x.utcMs));
    log(`tiles show ${others.map((x) => rfc(x.utcMs).slice(11, 23)).join(', ')} (spread ${spread.toFixed(0)} ms)`);
    check(spread < 1000, `the playback tiles are ${spread.toFixed(0)} ms apart`);
    if (!rollover) return;

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

// ---- 0. signing in ------------------------------------------------------------------------------
const visible = (page, sel) => page.evaluate((sel) => {
    const e = document.querySelector(sel);
    return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;
}, sel);

async function openLogin(page) {
    await page.goto(URL + '/', { waitUntil: 'load' });
    await poll(() => visible(page, '#login-form'), 10000, 'the login form');
}

// Signs in through the login form (already open) and waits for the console.
async function signIn(page, user, password) {
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await poll(() => page.evaluate(() => document.body.dataset.auth === 'in'), 10000, `the console after ${user} signs in`);
    const who = await page.evaluate(() => window.sargas.session());
    check(who && who.user === user, `signed in as ${JSON.stringify(who)}, expected ${user}`);
    return who;
}

async function adminSignsIn(page, dir, shots) {
    await openLogin(page);
    const before = await page.evaluate(() => ({
        auth: document.body.dataset.auth, topbar: !document.querySelector('header.topbar').hidden,
        videos: document.querySelectorAll('video').length,
    }));
    check(before.auth === 'out' && !before.topbar && !before.videos, `before sign-in: ${JSON.stringify(before)}`);
    shots.push(join(dir, 'console-login.png'));
    await page.screenshot({ path: shots[shots.length - 1] });
    const who = await signIn(page, ADMIN, ADMIN_PASSWORD);
    const site = await api('/site');
    const bar = await page.evaluate(() => ({
        user: document.querySelector('#acct-user').textContent, role: document.querySelector('#acct-role').textContent,
        site: document.querySelector('#acct-site').textContent,
    }));
    log(`signed in: ${JSON.stringify(bar)}; permissions ${who.permissions.join(' ')}`);
    check(bar.user === ADMIN && bar.role === 'Administrator' && bar.site === site.name,
        `the top bar shows ${JSON.stringify(bar)}, expected ${ADMIN}, Administrator, ${site.name}`);
    for (const id of ['nav-video', 'nav-cameras', 'nav-users', 'nav-audit', 'download', 'timeline', 'logout']) {
        check(await visible(page, '#' + id), `the administrator does not see #${id}`);
    }
}

// ---- g. users ------------------------------------------------------------------------------------
const OPERATOR = { name: 'op1', password: 'operator-password-1', cameras: [1, 2] };
const AUDITOR = { name: 'dpo', password: 'auditor-password-1' };

async function usersPage(page) {
    await page.click('#nav-users');
    await poll(() => page.evaluate(() => window.sargas.state().page === 'users' &&
        document.querySelectorAll('#users-table tbody tr').length > 0), 10000, 'the users page with its list');
    const names = await page.$$eval('#users-table tbody tr', (rows) => rows.map((r) => r.dataset.user));
    check(names.includes(ADMIN), `the users list lacks ${ADMIN}: ${names}`);
    for (const u of USERS) check(names.includes(u.name), `the users list lacks ${u.name} (made by run.py): ${names}`);
    await poll(async () => /fingerprint|no audit signing key/.test(await page.textContent('#page-users .site-line')),
        5000, 'the site line on the users page');
}

async function createUser(page, { name, role, password, granted }) {
    await page.fill('#new-name', name);
    await page.selectOption('#new-role', role);
    await page.fill('#new-password', password);
    await page.fill('#new-password2', password);
    await page.check(`#user-new input[name="scope"][value="${granted ? 'granted' : 'all'}"]`);
    await page.click('#new-create');
    await poll(() => page.evaluate((name) => {
        const e = document.querySelector('#user-edit');
        return !e.hidden && e.dataset.user === name && document.querySelector(`#users-table tr[data-user="${name}"]`) &&
            document.querySelector('#user-edit-status').textContent.includes(name);
    }, name), 10000, `user ${name} created and selected`);
    const users = (await api('/users')).users;
    const u = users.find((x) => x.name === name);
    check(u && u.role === role && u.all_cameras === !granted && !u.disabled, `the server holds ${JSON.stringify(u)}`);
    return u;
}

async function makeUsers(page) {
    const op = await createUser(page, { name: OPERATOR.name, role: 'operator', password: OPERATOR.password, granted: true });
    // the grants editor of the new user: allow cameras 1 and 2, nothing for 3 and 4
    for (const cam of OPERATOR.cameras) await page.check(`#user-grants input[name="grant-${cam}"][value="allow"]`);
    await page.click('#grants-save');
    await poll(async () => (await page.textContent('#user-edit-status')).includes('permissions saved'), 10000, 'grants saved');
    const held = await api(`/users/${op.id}`);
    const grants = held.grants.map((g) => `${g.camera}:${g.access}`).sort().join(',');
    check(grants === '1:allow,2:allow', `the server holds op1's grants ${grants}, expected 1:allow,2:allow`);
    log(`users: ${OPERATOR.name} (operator, granted only: ${grants})`);
    const dpo = await createUser(page, { name: AUDITOR.name, role: 'auditor', password: AUDITOR.password, granted: false });
    log(`users: ${AUDITOR.name} (auditor, id ${dpo.id})`);
    // the viewer made with the CLI: its deny of camera 4 shows in the editor
    const viewer = USERS.find((u) => u.role === 'viewer');
    if (viewer) {
        await page.click(`#users-table tr[data-user="${viewer.name}"]`);
        await poll(() => page.evaluate((v) => document.querySelector('#user-edit').dataset.user === v.name &&
            v.deny.every((c) => document.querySelector(`#user-grants input[name="grant-${c}"][value="deny"]`).checked) &&
            document.querySelector('#user-grants input[name="grant-1"][value=""]').checked, viewer), 5000,
        `${viewer.name}'s deny of camera(s) ${viewer.deny} in the grants editor`);
    }
    await page.click(`#users-table tr[data-user="${OPERATOR.name}"]`);
    await poll(() => page.evaluate(() => document.querySelector('#user-edit').dataset.user === 'op1' &&
        document.querySelector('#user-grants input[name="grant-2"][value="allow"]').checked), 5000, 'op1 selected again');
}

// ---- h. the operator of two cameras ---------------------------------------------------------------
const cameraNames = (ids) => ids.map((i) => `Camera ${i}`);

// None of `names` anywhere in the page: text, attributes, titles.
async function nowhere(page, names, what) {
    const html = await page.evaluate(() => document.documentElement.outerHTML + document.title);
    for (const n of names) check(!html.includes(n), `${what}: "${n}" appears in the page`);
}

async function operatorScenario(browser, dir, shots, evidence) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    try {
        const page = await ctx.newPage();
        await page.addInitScript(PAGE_HELPERS);
        const problems = watchPage(page);
        await openLogin(page);
        const who = await signIn(page, OPERATOR.name, OPERATOR.password);
        check(who.role === 'operator', `op1's role: ${who.role}`);
        await poll(() => page.evaluate(() => document.querySelectorAll('#cameras button.cam').length === 2), 10000,
            'the 2 cameras of op1 in the list');
        const listed = await page.$$eval('#cameras button.cam', (bs) => bs.map((b) => Number(b.dataset.camera)));
        check(listed.join(',') === OPERATOR.cameras.join(','), `op1's camera list: ${listed}, expected ${OPERATOR.cameras}`);
        for (const id of ['nav-users', 'nav-audit', 'download']) check(!(await visible(page, '#' + id)), `op1 sees #${id}`);
        for (const id of ['timeline', 'step-back', 'goto-time']) check(await visible(page, '#' + id), `op1 does not see #${id}`);
        for (const id of OPERATOR.cameras) await page.click(`#cameras button.cam[data-camera="${id}"]`);
        await poll(async () => {
            const s = await state(page);
            return s.tiles.slice(0, 2).every((x, i) => x.camera === OPERATOR.cameras[i] && x.mode === 'live') &&
                s.tiles.slice(2).every((x) => x.camera == null);
        }, 10000, 'cameras 1 and 2 live in tiles 0 and 1');
        const first = await poll(async () => {
            const v = await videoStats(page, 2);
            return v.every((x) => x && x.frames > 0) && v;
        }, 20000, 'frames in both of op1\'s tiles');
        await poll(async () => {
            const v = await videoStats(page, 2);
            return v.every((x, i) => x.currentTime >= first[i].currentTime + 1);
        }, 20000, 'op1\'s live tiles to advance');
        const grid = await page.$$eval('#grid video', (vs) => vs.map((v) => Number(v.dataset.camera)));
        check(grid.sort().join(',') === '1,2', `op1's grid plays cameras ${grid}`);
        log('op1: cameras 1 and 2 live');
        // the server refuses the others, whatever the page asks
        const other = await page.request.get(URL + '/api/v1/cameras/3');
        check(other.status() === 404, `op1: GET /api/v1/cameras/3 answered ${other.status()}, expected 404`);
        await seekOnTimeline(page, { tiles: 2, rollover: false });
        if (evidence) await operatorCase(page, evidence);
        await nowhere(page, cameraNames([3, 4]), 'op1\'s console');
        noProblems(problems, 'the operator\'s console');
        log('op1: played back camera 1; cameras 3 and 4 appear nowhere');
    } finally {
        await ctx.close();
    }
}

// The investigator's case on op1's cases page: both items, no Release, Close or Export.
async function operatorCase(page, { reference }) {
    for (const id of ['nav-cases', 'mark-in', 'mark-out']) check(await visible(page, '#' + id), `op1 does not see #${id}`);
    await page.click('#nav-cases');
    await poll(() => visible(page, `#cases-table tr[data-reference="${reference}"]`), 10000, `op1: case ${reference} in the list`);
    await page.click(`#cases-table tr[data-reference="${reference}"]`);
    await poll(() => page.evaluate(() => [...document.querySelectorAll('#case-items tbody tr')].map((tr) => tr.dataset.locked)
        .join(',') === 'true,false'), 10000, 'op1: the 2 items of the case, camera 2\'s released');
    for (const sel of ['#export-form', '#export-start', '#case-close', '#case-items button.release-item', '.site-exports']) {
        check(!(await visible(page, sel)), `op1 (operator) sees ${sel}`);
    }
    check(await visible(page, '#case-new'), 'op1 (operator) does not see the new-case form');
    log(`op1: case ${reference} with 2 items; no Release, Close or Export`);
    await page.click('#nav-video');
}

// ---- i. the viewer: live only ---------------------------------------------------------------------
async function viewerScenario(browser) {
    const viewer = USERS.find((u) => u.role === 'viewer');
    if (!viewer) return;
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    try {
        const page = await ctx.newPage();
        const problems = watchPage(page);
        await openLogin(page);
        await signIn(page, viewer.name, viewer.password);
        const want = [1, 2, 3, 4].filter((c) => !viewer.deny.includes(c));
        await poll(() => page.evaluate((n) => document.querySelectorAll('#cameras button.cam').length === n, want.length),
            10000, `${want.length} cameras in ${viewer.name}'s list`);
        for (const id of ['timeline', 'step-back', 'play-pause', 'goto-time', 'datetime', 'download', 'nav-users', 'nav-audit',
            'nav-cases', 'mark-in', 'mark-add']) {
            check(!(await visible(page, '#' + id)), `${viewer.name} (viewer) sees #${id}`);
        }
        // no cases page, even when asked for by name
        await page.evaluate(() => window.sargas.showPage('cases'));
        await poll(async () => (await state(page)).page === 'video', 5000, 'the viewer back on the video page');
        check(!(await visible(page, '#page-cases')), `${viewer.name} (viewer) sees the cases page`);
        await page.click('#cameras button.cam[data-camera="1"]');
        await poll(async () => {
            const v = await videoStats(page, 1);
            return v[0] && v[0].mode === 'live' && v[0].frames > 0;
        }, 20000, `${viewer.name}: camera 1 live`);
        // no way into playback: the keys and the test hook are refused
        await page.keyboard.press('ArrowLeft');
        await page.evaluate(() => window.sargas.seek(Date.now() - 60000));
        await new Promise((r) => setTimeout(r, 500));
        check((await state(page)).mode === 'live', `${viewer.name} (viewer) left live mode`);
        await nowhere(page, cameraNames(viewer.deny), `${viewer.name}'s console`);
        noProblems(problems, 'the viewer\'s console');
        log(`${viewer.name}: live only, cameras ${want}`);
    } finally {
        await ctx.close();
    }
}

// ---- j. the auditor: no video -----------------------------------------------------------------------
const MEDIA_URL = /\/api\/v1\/(live|cameras\/\d+\/(live|snapshot|playback|segments|download)|events\/\d+\/thumbnail)/;

async function auditorScenario(browser) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const page = await ctx.newPage();
    const problems = watchPage(page);
    const media = [];
    page.on('request', (r) => { if (MEDIA_URL.test(r.url())) media.push(r.url()); });
    await openLogin(page);
    const who = await signIn(page, AUDITOR.name, AUDITOR.password);
    check(who.role === 'auditor' && !who.permissions.includes('live'), `dpo: ${JSON.stringify(who)}`);
    await poll(() => page.evaluate((n) => window.sargas.state().page === 'cameras' &&
        document.querySelectorAll('#register tbody tr').length === n, CAMERAS), 10000, 'the camera register of the auditor');
    for (const id of ['nav-video', 'page-video', 'grid', 'timeline', 'nav-events', 'page-events']) check(!(await visible(page, '#' + id)), `dpo sees #${id}`);
    for (const id of ['nav-cameras', 'nav-users', 'nav-audit']) check(await visible(page, '#' + id), `dpo does not see #${id}`);
    check(!(await page.$('#register button.zones-btn')), 'dpo sees a zone editor button');
    // users: read-only
    await page.click('#nav-users');
    await poll(() => page.evaluate(() => document.querySelectorAll('#users-table tbody tr').length >= 3), 10000, 'dpo: the users list');
    check(!(await visible(page, '#user-new')), 'dpo sees the new-user form');
    await page.click('#users-table tr[data-user="op1"]');
    await poll(() => page.evaluate(() => !document.querySelector('#user-edit').hidden &&
        document.querySelector('#user-edit-fields').disabled), 5000, 'dpo: op1 shown read-only');
    await page.click('#nav-audit');
    await poll(() => page.evaluate(() => window.sargas.state().page === 'audit' &&
        document.querySelector('#audit-table').dataset.state === 'ready'), 10000, 'dpo: the audit page');
    await new Promise((r) => setTimeout(r, 1000));
    const videos = await page.evaluate(() => document.querySelectorAll('video').length);
    check(!videos && !media.length, `the auditor's page has ${videos} <video> and requested ${media.length} media URL(s): ${media[0]}`);
    noProblems(problems, 'the auditor\'s console');
    log('dpo: camera register, users read-only, audit page; no video, no media request');
    return { ctx, page, problems, media };
}

// ---- k. sign-in errors, sign-out -------------------------------------------------------------------
async function signInErrors(browser) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    try {
        const page = await ctx.newPage();
        await openLogin(page);
        const err = async () => (await visible(page, '#login-error')) && (await page.textContent('#login-error')).trim();
        await page.fill('#login-user', ADMIN);
        await page.fill('#login-password', 'not-the-password');
        await page.click('#login-submit');
        const wrong = await poll(err, 10000, 'the wrong-password message');
        check(wrong === 'Wrong user name or password.', `wrong password: "${wrong}"`);
        check(await page.evaluate(() => document.body.dataset.auth === 'out'), 'signed in with a wrong password');
        log(`wrong password: "${wrong}"`);
        // the limit per account (login_max_failures, 5): a name nobody has
        let limited = null;
        for (let k = 0; k < 8 && !limited; k++) {
            await page.evaluate(() => { document.querySelector('#login-error').hidden = true; });
            await page.fill('#login-user', 'nobody-here');
            await page.fill('#login-password', 'wrong-password-' + k);
            await page.click('#login-submit');
            const msg = await poll(err, 10000, `an answer to failed login ${k + 1}`);
            if (msg.includes('Try again')) limited = msg;
            else check(msg === 'Wrong user name or password.', `failed login ${k + 1}: "${msg}"`);
        }
        check(limited, 'no rate-limit message after 8 failed logins');
        const secs = Number((limited.match(/in (\d+) s/) || [])[1]);
        check(secs > 0 && secs <= 300 && await page.isDisabled('#login-submit'),
            `rate limited: "${limited}", the sign-in button ${await page.isDisabled('#login-submit') ? 'off' : 'on'}`);
        log(`rate limited: "${limited}"`);

        // the first-administrator form, as it shows while no administrator exists
        await page.route('**/api/v1/session', (route) => route.fulfill({
            status: 200, contentType: 'application/json', body: JSON.stringify({ user: null, setup_required: true }),
        }));
        await page.reload({ waitUntil: 'load' });
        await poll(() => visible(page, '#setup-form'), 10000, 'the first-administrator form');
        check(!(await visible(page, '#login-form')), 'the login form shows next to the setup form');
        await page.fill('#setup-token', 'not-the-token');
        await page.fill('#setup-user', 'second-admin');
        await page.fill('#setup-password', 'second-admin-password');
        await page.fill('#setup-password2', 'second-admin-password');
        await page.click('#setup-submit');
        const setupMsg = await poll(async () => (await visible(page, '#setup-error')) && (await page.textContent('#setup-error')),
            10000, 'the wrong-setup-token message');
        check(/setup token/.test(setupMsg), `wrong setup token: "${setupMsg}"`);
        log(`setup form, wrong token: "${setupMsg}"`);
        await page.unroute('**/api/v1/session');

        // sign in, sign out: the API answers 401 and the login page is back
        await openLogin(page);
        await signIn(page, ADMIN, ADMIN_PASSWORD);
        await poll(() => page.evaluate(() => document.querySelectorAll('#cameras button.cam').length === 4), 10000, 'the console');
        await page.click('#logout');
        await poll(() => visible(page, '#login-form'), 10000, 'the login page after signing out');
        const note = (await page.textContent('#login-note')).trim();
        check(note === 'You have signed out.', `after signing out the login page says "${note}"`);
        const after = await page.evaluate(async () => {
            const r = await fetch('/api/v1/cameras', { cache: 'no-store' });
            return { status: r.status, body: await r.json(), videos: document.querySelectorAll('video').length };
        });
        check(after.status === 401 && after.body.error.code === 'unauthorized' && !after.videos,
            `after signing out: GET /api/v1/cameras answered ${after.status} ${JSON.stringify(after.body)}; ${after.videos} <video>`);
        check(!(await visible(page, 'header.topbar')), 'the top bar shows after signing out');
        log('signed out: login page back, the API answers 401');
    } finally {
        await ctx.close();
    }
}

// ---- l. the audit trail ------------------------------------------------------------------------------
async function auditTrail(aud, dir, shots) {
    const { page } = aud;
    await page.fill('#audit-user', OPERATOR.name);
    const rows = () => page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => ({
        seq: Number(tr.dataset.seq), action: tr.dataset.action, user: tr.dataset.user, outcome: tr.dataset.outcome,
        camera: tr.dataset.camera ? Number(tr.dataset.camera) : null, time: tr.querySelector('time').dateTime,
        shown: tr.querySelector('td').textContent, title: tr.querySelector('td').title,
    })));
    const want = (rs) => ({
        login: rs.find((r) => r.action === 'login' && r.outcome === 'ok'),
        live: rs.find((r) => r.action === 'live.start' && r.camera === 1),
        playback: rs.find((r) => r.action === 'playback' && r.camera === 1),
    });
    let last = [];
    const found = await poll(async () => {
        await page.click('#audit-apply');
        await poll(() => page.evaluate(() => document.querySelector('#audit-table').dataset.state !== 'loading'), 10000, 'the audit table');
        last = await rows();
        const w = want(last);
        return w.login && w.live && w.playback && w;
    }, 20000, `op1's login, live.start and playback of camera 1 in the audit page`, 1000).catch((e) => {
        throw new Failure(`${e.message}; the page lists ${last.length} entries: ` +
            last.slice(0, 8).map((r) => `${r.action}/${r.outcome}/${r.camera}`).join(' '));
    });
    const all = await rows();
    check(all.every((r) => r.user === OPERATOR.name), `the filter user=op1 shows entries of ${[...new Set(all.map((r) => r.user))]}`);
    check(all.every((r, i) => !i || r.seq < all[i - 1].seq), 'the audit entries are not newest first');
    // local time on screen, UTC in the tooltip
    const e = found.login;
    check(e.title.startsWith(e.time) && e.time.endsWith('Z'), `time tooltip "${e.title}" for ${e.time}`);
    log(`audit: ${all.length} entries of op1, e.g. ${['login', 'live', 'playback'].map((k) => `${found[k].action} #${found[k].seq} ` +
        `at ${found[k].shown}`).join(', ')}`);
    shots.push(join(dir, 'console-audit.png'));
    await page.screenshot({ path: shots[shots.length - 1] });

    // CSV with the same filters
    const href = await page.getAttribute('#audit-csv', 'href');
    check(/[?&]user=op1(&|$)/.test(href), `the CSV link ${href} lacks user=op1`);
    const r = await page.request.get(new globalThis.URL(href, URL).toString());
    const body = await r.text();
    check(r.status() === 200 && (r.headers()['content-type'] || '').startsWith('text/csv'),
        `GET ${href}: ${r.status()} ${r.headers()['content-type']}`);
    const lines = body.trim().split(/\r?\n/);
    check(lines[0].startsWith('seq,time_utc,user'), `CSV header: ${lines[0]}`);
    for (const k of ['login', 'live', 'playback']) {
        check(lines.some((l) => l.startsWith(`${found[k].seq},`) && l.includes(`,${OPERATOR.name},`) && l.includes(found[k].action)),
            `the CSV lacks ${found[k].action} #${found[k].seq}`);
    }
    check(lines.slice(1).every((l) => l.split(',')[2] === OPERATOR.name), 'the CSV holds rows of other users');
    log(`audit CSV: ${lines.length - 1} rows, ${body.length} bytes`);
    noProblems(aud.problems, 'the auditor\'s console');
    check(!aud.media.length, `the auditor's page requested media: ${aud.media[0]}`);
}

// ---- n. motion: heat strip, events, zones ---------------------------------------------------------
const EVENT_PRE_MS = 5000;   // the console opens an event this long before its start
const EVENT_PAD_MS = 10000;  // the server adds this much around an event added to a case

async function heatStrip(page) {
    const r = await poll(async () => {
        const cells = await page.evaluate(() => window.sargas.activity(1));
        const recent = cells.filter((c) => c.level > 0 && c.endMs > Date.now() - 5 * 60e3);
        return recent.length ? { cells, recent } : null;
    }, 40000, 'non-zero heat strip cells of camera 1 within the last 5 minutes', 500);
    const max = Math.max(...r.recent.map((c) => c.level));
    log(`heat strip of camera 1: ${r.cells.length} non-zero cells, ${r.recent.length} in the last 5 min (max level ${max})`);
}

async function eventsPage(page, dir, shots) {
    await page.evaluate(() => window.sargas.setLayout(4));   // tiles 0-3: cameras 1-4
    // where camera 1's recordings begin (main and sub): the event must lie after that
    const now = Date.now();
    const recStart = Math.max(...await Promise.all(['main', 'sub'].map(async (stream) => {
        const r = await api(`/cameras/1/recordings?from=${rfc(now - 3600e3)}&to=${rfc(now)}&stream=${stream}`);
        return r.spans.length ? Date.parse(r.spans[0].start) : Infinity;
    })));
    await page.click('#nav-events');
    let applied = 0;
    const found = await poll(async () => {
        if (Date.now() - applied > 4000) {
            applied = Date.now();
            await page.click('#events-apply');
        }
        return page.evaluate(({ recStart, pre }) => {
            if (document.querySelector('#events-list').dataset.state !== 'ready') return null;
            const cards = [...document.querySelectorAll('#events-list .event-card[data-camera="1"]')].map((b) => {
                const img = b.querySelector('img.thumb');
                return { id: b.dataset.event, startMs: Number(b.dataset.startMs), thumb: img.complete ? img.naturalWidth : 0,
                    camera: b.querySelector('.ev-camera').textContent, time: b.querySelector('time').textContent,
                    title: b.querySelector('time').title };
            });
            const loaded = cards.find((c) => c.thumb > 0);
            const pick = cards.find((c) => c.startMs > recStart - 2000 && c.startMs < Date.now() - 8000);
            return loaded && pick ? { loaded, pick, n: cards.length } : null;
        }, { recStart, pre: EVENT_PRE_MS });
    }, 60000, 'an event of camera 1 with a loaded thumbnail on the events page', 500);
    log(`events page: ${found.n} events of camera 1; event ${found.loaded.id} thumbnail ${found.loaded.thumb} px wide; ` +
        `"${found.pick.camera}" at ${found.pick.time} (${found.pick.title})`);
    check(found.pick.camera === 'Camera 1' && Date.parse(found.pick.title) === found.pick.startMs,
        `event card: ${JSON.stringify(found.pick)}`);
    shots.push(join(dir, 'console-events.png'));
    await page.screenshot({ path: shots[shots.length - 1] });

    // "Add to case…" under the card: the event's footage into a new case
    const reference = `EV-${Date.now()}`;
    await page.click(`#events-list .ev-add[data-event="${found.pick.id}"]`);
    await poll(() => page.evaluate(() => document.querySelector('#addcase-dialog').open &&
        !document.querySelector('#addcase-case').disabled), 10000, 'the "Add to case" dialog for the event');
    check(!(await visible(page, '#addcase-cameras')), 'the dialog offers cameras for an event');
    await page.selectOption('#addcase-case', 'new');
    await page.fill('#addcase-ref', reference);
    await page.fill('#addcase-title', 'Browser test: a motion event');
    await page.fill('#addcase-reason', 'Browser test of adding an event');
    await page.click('#addcase-save');
    await poll(async () => !(await page.evaluate(() => document.querySelector('#addcase-dialog').open)) &&
        (await page.textContent('#events-status')).includes(reference), 10000, 'the event added to the case');
    const evCase = (await api('/cases?state=open')).cases.find((c) => c.reference === reference);
    const evItems = evCase ? (await api(`/cases/${evCase.id}`)).item_list : [];
    check(evItems.length === 1 && evItems[0].event_id === Number(found.pick.id) && evItems[0].camera_id === 1 &&
        Math.abs(Date.parse(evItems[0].start) - (found.pick.startMs - EVENT_PAD_MS)) <= 1, `case ${reference}: ${JSON.stringify(evItems)}`);
    log(`event ${found.pick.id} added to case ${reference}: ${evItems[0].start}..${evItems[0].end}`);

    const start = found.pick.startMs;
    await page.click(`#events-list .event-card[data-event="${found.pick.id}"]`);
    const r = await poll(async () => page.evaluate(async () => {
        const s = window.sargas.state();
        if (s.page !== 'video' || s.mode !== 'playback') return null;
        const i = s.tiles.findIndex((x) => x.camera === 1 && x.visible);
        const video = i < 0 ? null : document.querySelector(`#grid .tile[data-index="${i}"] video`);
        if (!video || video.dataset.mode !== 'playback' || video.paused || video.readyState < 3) return null;
        const f = await window.__sgbar.next(video, 2000);
        return f && f.ok ? { f, tile: i, utcMs: window.sargas.state().tiles[i].utcMs } : null;
    }), 20000, 'camera 1 to play the event');
    const sent = counterNear(r.f.value, start) * 40;
    log(`event ${found.pick.id} at ${rfc(start)}: tile ${r.tile} plays a frame sent at ${rfc(sent)} ` +
        `(${((sent - start) / 1000).toFixed(2)} s from the start), tile UTC ${r.utcMs == null ? 'null' : rfc(r.utcMs)}`);
    check(sent >= start - EVENT_PRE_MS - GOP_MS && sent <= start + 5000,
        `after opening the event at ${rfc(start)} the shown frame was sent at ${rfc(sent)}`);
    check(r.utcMs != null && Math.abs(r.utcMs - sent) <= GOP_MS, `tile ${r.tile} says ${r.utcMs}, shows a frame sent at ${rfc(sent)}`);
    await page.click('#goto-live');
}

async function zoneEditor(page, problems, dir, shots) {
    await page.click('#nav-cameras');
    await poll(() => visible(page, '#register button.zones-btn[data-camera="2"]'), 10000, 'the zones button of camera 2');
    await page.click('#register button.zones-btn[data-camera="2"]');
    await poll(() => page.evaluate(() => {
        const img = document.querySelector('#zone-snapshot');
        return !document.querySelector('#zone-editor').hidden && img.complete && img.naturalWidth > 0;
    }), 15000, 'the snapshot of camera 2 in the zone editor');
    // the editor may still be scrolling into view or laying out: click where the picture is
    // now, once it has stopped moving
    const shot = page.locator('#zone-snapshot');
    await shot.scrollIntoViewIfNeeded();
    const steadyBox = () => poll(async () => {
        const a = await shot.boundingBox();
        await page.waitForTimeout(100);
        const b = await shot.boundingBox();
        return a && b && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height && b;
    }, 5000, 'the zone editor picture to stop moving');
    const at = async ([x, y]) => {
        const box = await steadyBox();
        await page.mouse.click(box.x + x * box.width, box.y + y * box.height);
    };
    const pts = [[0.1, 0.1], [0.4, 0.12], [0.38, 0.45], [0.12, 0.4]];
    for (const p of pts) await at(p);
    await page.fill('#zone-name', 'test-mask');
    await page.selectOption('#zone-kind', 'mask');
    await page.click('#zone-finish');
    await page.click('#zone-save');
    await poll(async () => (await page.textContent('#zone-status')).startsWith('Zones saved'), 10000, 'the zones saved');
    const held = (await api('/cameras/2/zones')).zones;
    const m = held.find((z) => z.name === 'test-mask');
    check(m && m.kind === 'mask' && m.points.length === 4 &&
        m.points.every(([x, y]) => x >= 0 && x <= 1 && y >= 0 && y <= 1) &&
        m.points.every(([x, y], i) => Math.abs(x - pts[i][0]) < 0.02 && Math.abs(y - pts[i][1]) < 0.02),
    `GET /cameras/2/zones: ${JSON.stringify(held)}`);
    log(`zones of camera 2: ${JSON.stringify(m)}`);
    // a zone of 2 points: the server refuses it and the editor says why
    const before = problems.length;
    await at([0.6, 0.6]);
    await at([0.8, 0.7]);
    await page.fill('#zone-name', 'bad');
    await page.click('#zone-finish');
    await page.click('#zone-save');
    const msg = await poll(() => page.evaluate(() => {
        const e = document.querySelector('#zone-status');
        return e.classList.contains('error') && e.textContent;
    }), 10000, 'the error message for a 2-point zone');
    check(msg.startsWith('The server refused the zones:') && msg.length > 32, `2-point zone: "${msg}"`);
    const after = (await api('/cameras/2/zones')).zones;
    check(after.length === held.length && !after.some((z) => z.name === 'bad'), `after the refused save: ${JSON.stringify(after)}`);
    log(`2-point zone refused: "${msg}"`);
    shots.push(join(dir, 'console-zones.png'));
    await page.screenshot({ path: shots[shots.length - 1] });
    // the refusal is expected, not a problem of the page
    for (let i = problems.length - 1; i >= before; i--) if (/400/.test(problems[i])) problems.splice(i, 1);
}

// ---- o. evidence: a case from two cameras, exported -------------------------------------------------
const EXPORT_MAX_MS = 120000;

// The last span of at least `minMs` that camera `id` recorded on its main stream (what
// exports cut) within the last 10 minutes: {from, to}.
async function recordedRange(id, minMs) {
    return poll(async () => {
        const now = Date.now();
        const r = await api(`/cameras/${id}/recordings?from=${rfc(now - 600e3)}&to=${rfc(now)}&stream=main`);
        const s = r.spans.map((x) => ({ from: Date.parse(x.start), to: Date.parse(x.end) })).filter((x) => x.to - x.from >= minMs);
        return s.length ? s[s.length - 1] : null;
    }, 90000, `${minMs / 1000} s recorded by camera ${id}`, 1000);
}

// Clicks the timeline (10-minute window) at UTC `ms`; returns the master clock right after.
async function clickTimeline(page, ms) {
    const box = await page.locator('#timeline').boundingBox();
    const from = Number(await page.getAttribute('#timeline', 'data-from-ms'));
    const to = Number(await page.getAttribute('#timeline', 'data-to-ms'));
    check(ms > from && ms < to, `${rfc(ms)} outside the timeline window ${rfc(from)}..${rfc(to)}`);
    await page.mouse.click(box.x + ((ms - from) / (to - from)) * box.width, box.y + box.height / 3);
    const st = await poll(async () => {
        const s = await state(page);
        return s.mode === 'playback' && s.masterUtcMs != null && s;
    }, 5000, 'playback mode after the click');
    const pxMs = (to - from) / box.width;
    check(Math.abs(st.masterUtcMs - ms) < 2 * pxMs + 1000, `the console seeks to ${rfc(st.masterUtcMs)}, clicked for ${rfc(ms)}`);
    return st.masterUtcMs;
}

// Marks a range of camera `id` (shown in tile `tile`) from about `ms` on, adds it to the case
// (a new one when `fresh` is given); returns the marks {inMs, outMs}.
async function markAndAdd(page, { id, tile, ms, fresh, caseId, shot }) {
    await page.click(`#grid .tile[data-index="${tile}"]`, { position: { x: 40, y: 60 } });
    await clickTimeline(page, ms);
    await poll(async () => (await state(page)).tiles[tile].utcMs != null, 15000, `tile ${tile} (camera ${id}) to show the recording`);
    await page.click('#mark-in');
    await page.click('#step-forward');
    await page.click('#mark-out');
    const marks = (await state(page)).marks;
    // the clock may run on a little while the tile loads: Mark in lands at or shortly after ms
    check(marks.inMs != null && marks.outMs != null && marks.inMs >= ms - 2000 && marks.inMs <= ms + 8000 &&
        marks.outMs - marks.inMs >= 9000 && marks.outMs - marks.inMs <= 16000,
    `marks after Mark in, +10 s, Mark out from ${rfc(ms)}: ${JSON.stringify(marks)}`);
    const shown = await page.textContent('#mark-range');
    check(/\(1\d s\)|\(9 s\)/.test(shown), `the marked range reads "${shown}"`);
    await page.click('#mark-add');
    await poll(() => page.evaluate(() => document.querySelector('#addcase-dialog').open &&
        !document.querySelector('#addcase-case').disabled), 10000, 'the "Add to case" dialog with the open cases');
    // the selected tile's camera comes preselected, the others not
    const boxes = await page.$$eval('#addcase-camera-list input', (bs) => bs.map((b) => ({ id: Number(b.value), on: b.checked })));
    check(boxes.length === 2 && boxes.every((b) => b.on === (b.id === id)), `camera choice in the dialog: ${JSON.stringify(boxes)}`);
    if (fresh) {
        await page.selectOption('#addcase-case', 'new');
        await page.fill('#addcase-ref', fresh.reference);
        await page.fill('#addcase-title', fresh.title);
        await page.fill('#addcase-reason', fresh.reason);
    } else {
        check(await page.inputValue('#addcase-case') === String(caseId), 'the dialog does not offer the case used last');
    }
    await page.fill('#addcase-note', `camera ${id} from the timeline`);
    if (shot) await page.screenshot({ path: shot });
    await page.click('#addcase-save');
    await poll(() => page.evaluate(() => !document.querySelector('#addcase-dialog').open), 10000, 'the dialog to close after adding');
    const note = await page.textContent('#mark-range');
    check(note.includes('added to'), `after adding, the range reads "${note}"`);
    return marks;
}

async function evidenceScenario(browser, dir, shots) {
    const inv = USERS.find((u) => u.role === 'investigator');
    check(inv, 'run.py made no investigator');
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', acceptDownloads: true });
    try {
        const page = await ctx.newPage();
        const problems = watchPage(page);
        await openLogin(page);
        const who = await signIn(page, inv.name, inv.password);
        check(who.role === 'investigator' && ['cases', 'export', 'release'].every((p) => who.permissions.includes(p)),
            `${inv.name}: ${JSON.stringify(who)}`);
        for (const id of ['nav-cases', 'mark-in', 'mark-out', 'mark-add']) check(await visible(page, '#' + id), `${inv.name} does not see #${id}`);
        for (const cam of [1, 2]) await page.click(`#cameras button.cam[data-camera="${cam}"]`);
        await poll(async () => {
            const s = await state(page);
            return s.tiles[0].camera === 1 && s.tiles[1].camera === 2;
        }, 10000, 'cameras 1 and 2 in tiles 0 and 1');
        await page.click('#zoom-10m');
        const fresh = { reference: `BT-${Date.now()}`, title: 'Browser test: two cameras', reason: 'Browser test of the evidence workflow' };
        const spans = [await recordedRange(1, 30000), await recordedRange(2, 30000)];
        // two moments well inside what both cameras recorded, 12 s from the end at least
        const at = spans.map((s) => s.to - 14000 - Math.floor(Math.random() * 4000));
        shots.push(join(dir, 'console-add-to-case.png'));
        const m1 = await markAndAdd(page, { id: 1, tile: 0, ms: at[0], fresh, shot: shots[shots.length - 1] });
        const list = (await api('/cases?state=open')).cases;
        const made = list.find((c) => c.reference === fresh.reference);
        check(made && made.owner.name === inv.name, `the server holds no case ${fresh.reference} of ${inv.name}: ${JSON.stringify(list)}`);
        const m2 = await markAndAdd(page, { id: 2, tile: 1, ms: at[1], caseId: made.id });
        shots.push(join(dir, 'console-case-marks.png'));
        await page.screenshot({ path: shots[shots.length - 1] });
        const held = await api(`/cases/${made.id}`);
        const items = held.item_list;
        check(items.length === 2 && held.locked_items === 2, `case ${made.id}: ${JSON.stringify(held)}`);
        for (const [it, id, m] of [[items[0], 1, m1], [items[1], 2, m2]]) {
            check(it.camera_id === id && it.locked && Math.abs(Date.parse(it.start) - Math.min(m.inMs, m.outMs)) <= 1 &&
                Math.abs(Date.parse(it.end) - Math.max(m.inMs, m.outMs)) <= 1,
            `item of camera ${id}: ${JSON.stringify(it)}, marked ${JSON.stringify(m)}`);
        }
        log(`case ${fresh.reference} (#${made.id}): camera 1 ${items[0].start}..${items[0].end}, camera 2 ${items[1].start}..${items[1].end}`);
        await page.click('#goto-live');

        // the case on the cases page: both items, locked
        await page.click('#nav-cases');
        await poll(() => visible(page, `#cases-table tr[data-reference="${fresh.reference}"]`), 10000, 'the case in the list');
        await page.click(`#cases-table tr[data-reference="${fresh.reference}"]`);
        const rows = await poll(() => page.evaluate(() => {
            const trs = [...document.querySelectorAll('#case-items tbody tr')];
            return trs.length === 2 && trs.map((tr) => ({
                camera: tr.querySelector('td.camera').textContent, lock: tr.querySelector('td.lock').textContent,
                start: tr.querySelector('time').dateTime, startText: tr.querySelector('time').textContent,
                release: !!tr.querySelector('button.release-item'),
            }));
        }), 10000, 'the 2 items on the cases page');
        check(rows.map((r) => r.camera).join(',') === 'Camera 1,Camera 2' && rows.every((r) => r.lock === 'Locked' && r.release) &&
            rows.every((r, i) => r.start === items[i].start && r.startText && r.startText !== r.start),
        `case items on the page: ${JSON.stringify(rows)}`);

        // the site's key, as the API gives it
        const site = await api('/site');
        await poll(async () => (await page.textContent('#site-fingerprint')).trim() === site.fingerprint, 5000,
            `the fingerprint ${site.fingerprint} on the cases page`);
        const keyHref = await page.getAttribute('#site-key-link', 'href');
        const key = await page.request.get(new globalThis.URL(keyHref, URL).toString());
        check(key.status() === 200 && (await key.text()).trim() === site.public_key, `GET ${keyHref}: ${key.status()}`);

        // export with a reason; the progress shows until done
        await page.fill('#export-reason', 'Browser test: request of the State Police');
        await page.selectOption('#export-format', 'mp4');
        const started = Date.now();
        await page.click('#export-start');
        const seen = [];
        const row = await poll(async () => {
            const r = await page.evaluate(() => {
                const tr = document.querySelector('#case-exports tbody tr');
                return tr && { id: Number(tr.dataset.export), state: tr.dataset.state, progress: Number(tr.dataset.progress),
                    bar: !!tr.querySelector('progress'), error: (tr.querySelector('.export-error') || {}).textContent,
                    link: !!tr.querySelector('a.download') };
            });
            if (r && (!seen.length || seen[seen.length - 1] !== `${r.state}:${r.progress.toFixed(2)}`)) seen.push(`${r.state}:${r.progress.toFixed(2)}`);
            check(!r || r.state !== 'failed', `the export failed: ${r && r.error}`);
            check(!r || r.state === 'done' || r.bar, `export ${r && r.id} is ${r && r.state} without a progress bar`);
            return r && r.state === 'done' && r.link && r;
        }, EXPORT_MAX_MS, 'the export to finish with a download link', 250);
        log(`export #${row.id} done after ${((Date.now() - started) / 1000).toFixed(1)} s; states seen: ${seen.join(' ')}`);
        const job = await api(`/exports/${row.id}`);
        check(job.state === 'done' && job.case_id === made.id && job.progress === 1 && job.items.length === 2,
            `GET /exports/${row.id}: ${JSON.stringify(job)}`);
        await page.locator('#case-exports').scrollIntoViewIfNeeded();
        shots.push(join(dir, 'console-case.png'));
        await page.screenshot({ path: shots[shots.length - 1] });

        // the download: the package the job describes
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#case-exports a.download')]);
        const file = join(dir, download.suggestedFilename());
        await download.saveAs(file);
        check(download.suggestedFilename() === `export-${row.id}.zip`, `the package downloads as ${download.suggestedFilename()}`);
        const zip = readFileSync(file);
        const sha = createHash('sha256').update(zip).digest('hex');
        check(sha === job.sha256 && zip.length === job.bytes, `the package: ${zip.length} bytes, SHA-256 ${sha}; the job says ` +
            `${job.bytes} bytes, ${job.sha256}`);
        const top = `export-${row.id}/`;
        const entries = new Map(readZip(zip).map((e) => [e.name, e]));
        for (const n of ['manifest.json', 'manifest.sig', 'README.txt']) check(entries.has(top + n), `the package lacks ${top}${n}: ${[...entries.keys()]}`);
        const manifest = JSON.parse(entries.get(top + 'manifest.json').data().toString('utf8'));
        const media = [...entries.keys()].filter((n) => n.startsWith(top + 'media/') && n.endsWith('.mp4'));
        check(media.length === 2 && manifest.items.length === 2, `the package holds ${media.length} media files, the manifest lists ` +
            `${manifest.items.length} items`);
        check(manifest.items.map((it) => it.camera.id).join(',') === '1,2' && manifest.export.case.reference === fresh.reference &&
            manifest.site.fingerprint === site.fingerprint, `manifest: ${JSON.stringify({ ...manifest, files: undefined })}`);
        for (const it of manifest.items) {
            const f = manifest.files.find((x) => x.path === it.file);
            const e = entries.get(top + it.file);
            check(f && e, `the manifest's ${it.file} is not in the package`);
            const data = e.data();
            check(data.length === f.size && createHash('sha256').update(data).digest('hex') === f.sha256,
                `${it.file}: ${data.length} bytes, not as the manifest lists it (${f.size} bytes, ${f.sha256})`);
        }
        // what the page tells a recipient to run, with the names the files download as
        const command = (await page.textContent('#site-key-command')).trim();
        check(command === `sargas-verify --key site-${site.id}.pub export-${row.id}`, `the verifier command reads "${command}"`);
        writeFileSync(join(dir, `site-${site.id}.pub`), site.public_key + '\n');
        log(`package ${file}: ${zip.length} bytes, ${entries.size} entries; media ${media.map((n) => n.slice(top.length)).join(', ')}; ` +
            `fingerprint ${site.fingerprint}`);

        // releasing a lock asks for a reason; without one nothing is sent
        await page.click('#case-items tr[data-camera="2"] button.release-item');
        await poll(() => page.evaluate(() => document.querySelector('#reason-dialog').open), 5000, 'the release dialog');
        await page.click('#reason-ok');
        const refusal = await poll(async () => (await visible(page, '#reason-error')) && page.textContent('#reason-error'), 5000,
            'the message for a release without a reason');
        check(refusal === 'Give a reason.', `release without a reason: "${refusal}"`);
        const why = 'Browser test: camera 2 does not show the scene';
        await page.fill('#reason-input', why);
        await page.click('#reason-ok');
        await poll(() => page.evaluate(() => {
            const tr = document.querySelector('#case-items tr[data-camera="2"]');
            return !document.querySelector('#reason-dialog').open && tr && tr.dataset.locked === 'false' &&
                tr.querySelector('td.lock').textContent.startsWith('Released') && !tr.querySelector('button.release-item');
        }), 10000, 'camera 2\'s item shown released');
        const after = (await api(`/cases/${made.id}`)).item_list;
        check(after[0].locked && !after[1].locked && after[1].release_reason === why, `after the release: ${JSON.stringify(after)}`);
        log(`camera 2's lock released with a reason; "${refusal}" without one`);
        noProblems(problems, 'the investigator\'s console');
        return { reference: fresh.reference, caseId: made.id, exportId: row.id };
    } finally {
        await ctx.close();
    }
}

const ROLL_S = 6; // playlist window for step d (the console's default is ten minutes)

async function main() {
    check(URL, 'SARGAS_URL is not set: run this through tests/browser/run.py');
    check(ADMIN_PASSWORD && TOKEN, 'SARGAS_ADMIN_PASSWORD / SARGAS_TOKEN are not set: run this through tests/browser/run.py');
    const browser = await launch();
    const shots = [];
    let aud = null;
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

        log('0. sign in as the administrator');
        await adminSignsIn(page, dir, shots);
        log('a. load, languages');
        await loadsAndTranslates(page, problems);
        log('b. layout 4 live');
        await fourLive(page);
        log('c. live barcode');
        await liveBarcode(page, 'live');
        log('n. the heat strip of camera 1');
        await heatStrip(page);
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
        log('g. users page: an operator of cameras 1 and 2, an auditor');
        await usersPage(page);
        await makeUsers(page);
        shots.push(join(dir, 'console-users.png'));
        await page.screenshot({ path: shots[shots.length - 1] });
        log('n. the events page');
        await eventsPage(page, dir, shots);
        log('n. the zone editor');
        await zoneEditor(page, problems, dir, shots);
        noProblems(problems, 'the administrator\'s console');
        await ctx.close();

        log('o. the investigator: a case from two cameras, exported');
        const evidence = await evidenceScenario(browser, dir, shots);
        log('h. the operator of cameras 1 and 2');
        await operatorScenario(browser, dir, shots, evidence);
        log('i. the viewer');
        await viewerScenario(browser);
        log('j. the auditor');
        aud = await auditorScenario(browser);
        log('k. sign-in errors, sign-out');
        await signInErrors(browser);
        log('l. the audit trail of the operator');
        await auditTrail(aud, dir, shots);
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
