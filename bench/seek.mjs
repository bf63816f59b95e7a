#!/usr/bin/env node
// The browser half of bench/seek.sh (started by bench/seek.py): for each moment in
// SG_SEEK_MOMENTS (JSON, UTC ms) the console goes live (camera 1 in tile 0 of layout 4), the
// archive leaves the page cache (SG_SEEK_EVICT: file list for `seek.py --evict`), then
// window.sargas.seek(T), the same call a timeline click or the date input makes, and the time
// to the first frame tile 0 presents (requestVideoFrameCallback, expectedDisplayTime).
// Prints one "browser <T>: <ms> ms ..." line per moment.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PAGE_HELPERS, HERE as LIB, check, launch, poll, signInContext } from '../tests/browser/lib.mjs';

const URL = process.env.SARGAS_URL;
const MOMENTS = JSON.parse(process.env.SG_SEEK_MOMENTS || '[]');
const EVICT = process.env.SG_SEEK_EVICT;
const SEEK_PY = join(LIB, '..', '..', 'bench', 'seek.py');

async function main() {
    check(URL && MOMENTS.length, 'run through bench/seek.sh');
    const browser = await launch();
    try {
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        await signInContext(ctx);   // the console opens signed in, without its login page
        const page = await ctx.newPage();
        await page.addInitScript(PAGE_HELPERS);
        await page.goto(URL + '/');
        await poll(() => page.evaluate(() => document.querySelectorAll('#cameras button.cam').length >= 1), 15000, 'the camera list');
        await page.evaluate(() => { window.sargas.setLayout(4); window.sargas.assign(0, 1); });
        for (const T of MOMENTS) {
            await page.evaluate(() => window.sargas.live());
            await poll(() => page.evaluate(() => {
                const v = document.querySelector('#grid .tile[data-index="0"] video');
                return v && v.dataset.mode === 'live' && !v.paused && v.readyState >= 3;
            }), 20000, 'tile 0 live');
            if (EVICT) {
                const r = spawnSync('python3', [SEEK_PY, '--evict', EVICT]);
                check(r.status === 0, `seek.py --evict failed: ${r.stderr}`);
            }
            const r = await page.evaluate(async (T) => {
                const t0 = performance.now();
                window.sargas.seek(T);
                // seek() replaces the tile's player and <video> synchronously
                const v = document.querySelector('#grid .tile[data-index="0"] video');
                if (!v || v.dataset.mode !== 'playback') return { error: 'no playback video after seek()' };
                const f = await new Promise((resolve) => {
                    const timer = setTimeout(() => resolve(null), 10000);
                    v.requestVideoFrameCallback((now, md) => { clearTimeout(timer); resolve(md); });
                });
                if (!f) return { error: 'no frame within 10 s' };
                const ms = f.expectedDisplayTime - t0;
                // what the console says tile 0 shows, once it says anything
                let utc = null;
                for (let i = 0; i < 50 && utc == null; i++) {
                    utc = window.sargas.state().tiles[0].utcMs;
                    if (utc == null) await new Promise((r) => setTimeout(r, 20));
                }
                return { ms, utc, mediaTime: f.mediaTime };
            }, T);
            check(!r.error, `seek to ${new Date(T).toISOString()}: ${r.error}`);
            console.log(`browser ${new Date(T).toISOString()}: ${r.ms.toFixed(0)} ms to the first frame; ` +
                `tile 0 shows ${r.utc == null ? 'null' : new Date(r.utc).toISOString()}` +
                (r.utc == null ? '' : ` (${(r.utc - T).toFixed(0)} ms from T)`));
        }
    } finally {
        await browser.close();
    }
}

main().catch((e) => {
    console.log(`seek.mjs: FAILED: ${e.message}`);
    process.exit(1);
});
