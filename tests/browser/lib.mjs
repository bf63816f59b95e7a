// Shared by the console's browser test and the browser benchmarks (bench/*.mjs): starting
// Chromium with playwright-core, polling with deadlines, reading the fake cameras' barcode
// from the frames a <video> presents, and reading the ZIP packages of evidence exports.
//
// The barcode (tools/fakecam): 16 blocks in the top row of the picture, each width/40 px
// square, block 0 leftmost; block i white (luma 235) when bit i of (counter mod 750) is 1,
// else black (luma 16). Frame `counter` was sent at UTC counter * 40 ms.
import { existsSync, mkdirSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const SOURCE = process.env.SG_SOURCE || join(HERE, '..', '..');
export const BUILD = process.env.SG_BUILD || join(SOURCE, 'build');
export const CHROMIUM = process.env.SG_CHROMIUM || '/usr/bin/chromium';
export const FRAME_MS = 40;
export const CYCLE = 750;

export class Failure extends Error {}

export function check(cond, msg) {
    if (!cond) throw new Failure(msg);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls fn() (sync or async) until it returns a truthy value or the deadline passes.
export async function poll(fn, timeoutMs, what, intervalMs = 200) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
        try {
            const v = await fn();
            if (v) return v;
            last = v;
        } catch (e) {
            last = e;
        }
        if (Date.now() > deadline) {
            throw new Failure(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}` +
                (last instanceof Error ? ` (last error: ${last.message})` : ''));
        }
        await sleep(intervalMs);
    }
}

export function artifactsDir() {
    const dir = process.env.SG_ARTIFACTS || join(BUILD, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    return dir;
}

export async function launch() {
    check(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--autoplay-policy=no-user-gesture-required', '--no-first-run', '--disable-background-timer-throttling',
            '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
    });
}

// The counter of the frame sent last at or before `utcMs` whose barcode reads `value`.
export function counterAtOrBefore(value, utcMs) {
    const c0 = Math.floor(utcMs / FRAME_MS);
    return c0 - ((((c0 - value) % CYCLE) + CYCLE) % CYCLE);
}

// The counter nearest to `utcMs` whose barcode reads `value` (for recorded footage).
export function counterNear(value, utcMs) {
    return value + CYCLE * Math.round((utcMs / FRAME_MS - value) / CYCLE);
}

// Live latency of a frame shown at displayUtc: display time minus send time.
export const latencyMs = (value, displayUtc) => displayUtc - counterAtOrBefore(value, displayUtc) * FRAME_MS;

export function percentile(xs, p) {
    if (!xs.length) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
    return s[i];
}

// In-page helpers, installed with page.addInitScript(PAGE_HELPERS):
//   window.__sgbar.read(video)     -> {value, ok, lum}: the barcode of what drawImage gives now
//   window.__sgbar.next(video, ms) -> Promise of the next presented frame:
//        {value, ok, lum, displayUtc, mediaTime, presentedFrames} (null after ms without one)
//   window.__sgbar.sample(videos, seconds) -> Promise of [[{value, ok, displayUtc}...] per video]:
//        every presented frame of each video for `seconds`, via requestVideoFrameCallback
// displayUtc maps metadata.expectedDisplayTime (performance.now() time base) to UTC ms with
// Date.now() - performance.now() taken in the callback itself.
export const PAGE_HELPERS = `(() => {
    const canvases = new WeakMap();
    function read(video) {
        const w = video.videoWidth, h = video.videoHeight;
        if (!w || !h) return { value: -1, ok: false, lum: [] };
        const bw = w / 40, sh = Math.ceil(bw);
        let c = canvases.get(video);
        if (!c || c.width !== w || c.height !== sh) {
            c = document.createElement('canvas');
            c.width = w;
            c.height = sh;
            c.g = c.getContext('2d', { willReadFrequently: true });
            canvases.set(video, c);
        }
        c.g.drawImage(video, 0, 0, w, sh, 0, 0, w, sh);
        const img = c.g.getImageData(0, 0, w, sh).data;
        // the mean luma of the middle half of each block
        const r = Math.max(1, Math.floor(bw / 4));
        const lum = [];
        let value = 0, ok = true;
        for (let i = 0; i < 16; i++) {
            const cx = Math.floor((i + 0.5) * bw), cy = Math.floor(bw / 2);
            let sum = 0, n = 0;
            for (let y = cy - r; y < cy + r; y++) {
                for (let x = cx - r; x < cx + r; x++) {
                    const k = (y * w + x) * 4;
                    sum += 0.299 * img[k] + 0.587 * img[k + 1] + 0.114 * img[k + 2];
                    n++;
                }
            }
            const l = sum / n;
            lum.push(Math.round(l));
            if (l > 128) value |= 1 << i;
            if (l > 70 && l < 180) ok = false;
        }
        if (value >= 750) ok = false;
        return { value, ok, lum };
    }
    function next(video, ms = 3000) {
        return new Promise((resolve) => {
            const timer = setTimeout(() => resolve(null), ms);
            video.requestVideoFrameCallback((now, md) => {
                clearTimeout(timer);
                const offset = Date.now() - performance.now();
                const b = read(video);
                resolve({ ...b, displayUtc: offset + md.expectedDisplayTime, mediaTime: md.mediaTime,
                          presentedFrames: md.presentedFrames, currentTime: video.currentTime });
            });
        });
    }
    function sample(videos, seconds) {
        return new Promise((resolve) => {
            const out = videos.map(() => []);
            const end = performance.now() + seconds * 1000;
            let running = videos.length;
            videos.forEach((v, i) => {
                const cb = (now, md) => {
                    const offset = Date.now() - performance.now();
                    const b = read(v);
                    out[i].push({ value: b.value, ok: b.ok, displayUtc: offset + md.expectedDisplayTime,
                                  presentedFrames: md.presentedFrames });
                    if (performance.now() < end) v.requestVideoFrameCallback(cb);
                    else if (--running === 0) resolve(out);
                };
                v.requestVideoFrameCallback(cb);
            });
            // a video that stops presenting frames must not hang the sampling
            setTimeout(() => resolve(out), seconds * 1000 + 5000);
        });
    }
    window.__sgbar = { read, next, sample };
})();`;

// Signs a browser context in as the administrator that tests/browser/run.py made
// (SARGAS_ADMIN_USER, SARGAS_ADMIN_PASSWORD) through POST /api/v1/login: the session cookie
// lands in the context, so its pages open the console signed in and their media requests
// carry it. Returns the session document.
export async function signInContext(ctx, url = process.env.SARGAS_URL) {
    const user = process.env.SARGAS_ADMIN_USER || 'admin';
    const r = await ctx.request.post(url + '/api/v1/login', { data: { user, password: process.env.SARGAS_ADMIN_PASSWORD || '' } });
    check(r.ok(), `signing in as ${user}: HTTP ${r.status()} ${(await r.text()).slice(0, 200)}`);
    return r.json();
}

// Records what goes wrong on a page: console errors, uncaught exceptions, failed requests
// and HTTP errors. Requests the console aborts on purpose (a live response replaced by one for
// the new set of tiles, HLS loads stopped when a tile changes mode) are not errors.
export function watchPage(page) {
    const problems = [];
    const intentional = (url, err) => err === 'net::ERR_ABORTED' &&
        /\/api\/v1\/(live\?|cameras\/\d+\/(live|playback|segments)\/)/.test(url);
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`uncaught exception: ${e.message}`));
    page.on('requestfailed', (r) => {
        const err = r.failure() ? r.failure().errorText : '?';
        if (!intentional(r.url(), err)) problems.push(`request failed: ${r.method()} ${r.url()}: ${err}`);
    });
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`); });
    return problems;
}

// The entries of a ZIP file (a Buffer): [{name, method, size, data()}], from its central
// directory (ZIP64 fields included); data() gives the entry's bytes (stored or deflated).
export function readZip(buf) {
    const EOCD = 0x06054b50, CEN = 0x02014b50, LOC = 0x04034b50, Z64LOC = 0x07064b50, Z64EOCD = 0x06064b50;
    let eocd = -1;
    for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
        if (buf.readUInt32LE(i) === EOCD) { eocd = i; break; }
    }
    check(eocd >= 0, 'not a ZIP file: no end-of-central-directory record');
    let count = buf.readUInt16LE(eocd + 10), cdOffset = buf.readUInt32LE(eocd + 16);
    if ((count === 0xffff || cdOffset === 0xffffffff) && eocd >= 20 && buf.readUInt32LE(eocd - 20) === Z64LOC) {
        const z = Number(buf.readBigUInt64LE(eocd - 20 + 8));
        check(buf.readUInt32LE(z) === Z64EOCD, 'ZIP: bad ZIP64 end record');
        count = Number(buf.readBigUInt64LE(z + 32));
        cdOffset = Number(buf.readBigUInt64LE(z + 48));
    }
    const entries = [];
    let p = cdOffset;
    for (let k = 0; k < count; k++) {
        check(buf.readUInt32LE(p) === CEN, `ZIP: bad central directory entry ${k}`);
        const method = buf.readUInt16LE(p + 10);
        let csize = buf.readUInt32LE(p + 20), size = buf.readUInt32LE(p + 24), offset = buf.readUInt32LE(p + 42);
        const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
        const name = buf.toString('utf8', p + 46, p + 46 + nlen);
        // ZIP64 extra field: the 64-bit values of the fields that say 0xffffffff, in this order
        for (let x = p + 46 + nlen; x < p + 46 + nlen + xlen; x += 4 + buf.readUInt16LE(x + 2)) {
            if (buf.readUInt16LE(x) !== 1) continue;
            let q = x + 4;
            const next = () => { const v = Number(buf.readBigUInt64LE(q)); q += 8; return v; };
            if (size === 0xffffffff) size = next();
            if (csize === 0xffffffff) csize = next();
            if (offset === 0xffffffff) offset = next();
        }
        entries.push({
            name, method, size,
            data: () => {
                check(buf.readUInt32LE(offset) === LOC, `ZIP: bad local header of ${name}`);
                const start = offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28);
                const raw = buf.subarray(start, start + csize);
                if (method === 0) return raw;
                check(method === 8, `ZIP: ${name} uses compression method ${method}`);
                return inflateRawSync(raw);
            },
        });
        p += 46 + nlen + xlen + clen;
    }
    return entries;
}
