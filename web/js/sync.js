// Synchronised playback: one master clock in UTC; every playback tile follows it.
// A tile within 0.3 s of the master plays at rate 1 (nudged to settle within SETTLE_MS);
// up to 1 s off it plays up to 10 % faster or slower; further off it seeks. Tiles with no
// recording at the master's moment wait, paused. After a seek the master waits (at most
// HOLD_MAX_MS) for the tiles that are still loading, so that all start together.
import { utcToMedia } from './time.js';

const TOLERANCE_MS = 300;
const SETTLE_MS = 40;
const SEEK_MS = 1000;
const SEEK_COOLDOWN_MS = 1500;  // a tile still buffering after a seek gets time before the next
const HOLD_MAX_MS = 2000;       // the master waits at most this long for slow tiles
const RELOAD_MIN_MS = 3000;     // a tile reloads its playlist at most this often
const EMPTY_RELOAD_MS = 10000;  // ... and this often while its camera recorded nothing

export class MasterClock {
    constructor() {
        this.baseUtc = null;
        this.basePerf = 0;
        this.playing = false;
        this.heldSince = null;
        this.frozen = null;
    }
    now() {
        if (this.baseUtc == null) return null;
        return this.playing ? this.baseUtc + (performance.now() - this.basePerf) : this.baseUtc;
    }
    set(utcMs) {
        this.baseUtc = utcMs;
        this.basePerf = performance.now();
        this.heldSince = null;
        this.frozen = null;
    }
    // The master waits for slow tiles: it stays at the moment the hold began (not at the
    // last set(): a hold in the middle of playback, e.g. while the next playlist window
    // loads, must not send every tile back to where playback started).
    hold() {
        if (this.frozen == null) this.frozen = this.now();
        this.baseUtc = this.frozen;
        this.basePerf = performance.now();
    }
    release() { this.frozen = null; }
    play() { if (!this.playing) { this.set(this.now()); this.playing = true; } }
    pause() { if (this.playing) { this.set(this.now()); this.playing = false; } }
    clear() { this.baseUtc = null; this.playing = false; this.heldSince = null; }
}

// Brings one tile to the master's moment m. Returns 'busy' (loading, buffering),
// 'ready', or 'gap' (nothing recorded at m; `next` receives the next recorded moment).
function follow(p, m, playing, next) {
    const now = performance.now();
    if (p.unsupported) return 'gap';
    if (p.failed) {
        if (now - p.loadedAt > EMPTY_RELOAD_MS) p.load(m);
        return 'gap';
    }
    if (!p.frags) return 'busy';
    if (!p.frags.length || !p.covers(m)) {
        const wait = p.frags.length ? RELOAD_MIN_MS : EMPTY_RELOAD_MS;
        if (!p.loadedAt || now - p.loadedAt > wait) p.load(m);
        return p.frags && !p.frags.length ? 'gap' : 'busy';
    }
    const where = utcToMedia(p.frags, m);
    if (!where || where.gap || where.after) {
        p.gapNext = where && where.gap ? where.nextUtc : null;
        if (!p.inGap) {
            p.inGap = true;
            p.video.pause();
            p.onStatus('norecording', where && where.nextUtc);
        }
        if (where && where.gap) next.utc = Math.min(next.utc, where.nextUtc);
        return 'gap';
    }
    const v = p.video;
    if (p.inGap) {
        p.inGap = false;
        p.seekedAt = now;
        v.currentTime = where.media;
        p.onStatus('waiting');
    }
    const u = p.utc();
    const diff = u == null ? 0 : u - m;
    if (u != null && Math.abs(diff) > (playing ? SEEK_MS : 100)) {
        if (!playing || !p.seekedAt || now - p.seekedAt > SEEK_COOLDOWN_MS) {
            p.seekedAt = now;
            v.currentTime = where.media;
        }
        v.playbackRate = 1;
    } else if (playing && Math.abs(diff) > SETTLE_MS) {
        // Proportional: 0.3 s off plays 10 % faster or slower.
        const k = Math.max(-0.1, Math.min(0.1, (-diff / TOLERANCE_MS) * 0.1));
        v.playbackRate = Math.round((1 + k) * 100) / 100;
    } else {
        v.playbackRate = 1;
    }
    return v.readyState >= 3 && !v.seeking ? 'ready' : 'busy';
}

// One step of the loop over the PlaybackPlayers of the visible tiles.
export function syncStep(clock, players) {
    let m = clock.now();
    if (m == null || !players.length) return;
    if (m > Date.now()) { clock.set(Date.now()); m = clock.now(); }
    const next = { utc: Infinity };
    const states = players.map((p) => follow(p, m, clock.playing, next));
    const busy = states.includes('busy');
    const recorded = states.some((s) => s !== 'gap');

    let holding = false;
    if (clock.playing && busy) {
        if (clock.heldSince == null) clock.heldSince = performance.now();
        holding = performance.now() - clock.heldSince < HOLD_MAX_MS;
    } else {
        clock.heldSince = null;
    }
    if (holding) {
        clock.hold();
    } else {
        clock.release();
        // Nobody has a recording here, but some have one later: skip the common gap.
        if (clock.playing && !recorded && next.utc !== Infinity) clock.set(next.utc);
    }

    players.forEach((p, i) => {
        if (states[i] === 'gap') return;
        if (clock.playing && !holding) p.play(); else p.pause();
    });
}
