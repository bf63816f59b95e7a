// All live tiles of the page over one HTTP response: GET /api/v1/live?streams=1:sub,7:main,...
// carries every wanted stream, framed as messages (8-byte header: index, type, 0, 0, payload
// length u32 big-endian; then the payload). A browser opens at most 6 HTTP/1.1 connections
// per host, so one response per tile would leave tiles of layouts 9 and 16 (and the console's
// own API calls) waiting.
//
// Tiles register their LivePlayer; on any change the mux (debounced) opens a new response
// for the current set of streams (sorted, without duplicates: tiles showing the same stream
// share one index) and keeps the old one until the new one has sent its first message, then
// aborts it (make before break). A response that ends or fails is reopened with backoff.
//
// Each stream's media bytes are cut into whole units for the players: an init segment
// (ftyp + moov) or one fragment (prft + moof + mdat), with the fragment's decode time (tfdt),
// so that a player can skip what a new response sends again (the GOP up to now).
import { api, errorFrom } from './api.js';

const T_STATE = 1, T_MEDIA = 2, T_END = 3;
const DEBOUNCE_MS = 100;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const MAX_STREAMS = 32;

// A queue of received byte chunks that hands out exact byte counts.
class ByteQueue {
    constructor() { this.chunks = []; this.head = 0; this.length = 0; }
    push(u8) { if (u8.byteLength) { this.chunks.push(u8); this.length += u8.byteLength; } }
    clear() { this.chunks = []; this.head = 0; this.length = 0; }
    // byte i from the front (i < length)
    at(i) {
        let k = 0, off = this.head + i;
        while (off >= this.chunks[k].byteLength) { off -= this.chunks[k].byteLength; k++; }
        return this.chunks[k][off];
    }
    u32(i) { return ((this.at(i) << 24) | (this.at(i + 1) << 16) | (this.at(i + 2) << 8) | this.at(i + 3)) >>> 0; }
    // removes and returns the first n bytes (a view when they lie in one chunk)
    take(n) {
        const first = this.chunks[0];
        let out;
        if (first && first.byteLength - this.head >= n) {
            out = first.subarray(this.head, this.head + n);
            this.head += n;
        } else {
            out = new Uint8Array(n);
            let off = 0;
            while (off < n) {
                const c = this.chunks[0];
                const k = Math.min(n - off, c.byteLength - this.head);
                out.set(c.subarray(this.head, this.head + k), off);
                off += k;
                this.head += k;
                if (this.head === c.byteLength) { this.chunks.shift(); this.head = 0; }
            }
        }
        if (this.chunks.length && this.head === this.chunks[0].byteLength) { this.chunks.shift(); this.head = 0; }
        this.length -= n;
        return out;
    }
}

const fourcc = (u8, off) => String.fromCharCode(u8[off], u8[off + 1], u8[off + 2], u8[off + 3]);
const u32 = (u8, off) => ((u8[off] << 24) | (u8[off + 1] << 16) | (u8[off + 2] << 8) | u8[off + 3]) >>> 0;

// The child boxes of u8[from, to): [{type, start, end, body}].
function boxes(u8, from, to) {
    const out = [];
    let off = from;
    while (off + 8 <= to) {
        let size = u32(u8, off), head = 8;
        if (size === 1) { size = u32(u8, off + 8) * 2 ** 32 + u32(u8, off + 12); head = 16; }
        if (size < head || off + size > to) break;
        out.push({ type: fourcc(u8, off + 4), start: off, end: off + size, body: off + head });
        off += size;
    }
    return out;
}
const child = (u8, box, type) => boxes(u8, box.body, box.end).find((b) => b.type === type);

// tfdt of the first traf of a moof box (null if absent).
function decodeTime(u8, moof) {
    const traf = child(u8, moof, 'traf');
    const tfdt = traf && child(u8, traf, 'tfdt');
    if (!tfdt) return null;
    const v = u8[tfdt.body];
    return v === 1 ? u32(u8, tfdt.body + 4) * 2 ** 32 + u32(u8, tfdt.body + 8) : u32(u8, tfdt.body + 4);
}

// The timescale of the first track of a moov box (null if absent).
function timescale(u8, moov) {
    const trak = child(u8, moov, 'trak');
    const mdia = trak && child(u8, trak, 'mdia');
    const mdhd = mdia && child(u8, mdia, 'mdhd');
    if (!mdhd) return null;
    return u32(u8, mdhd.body + (u8[mdhd.body] === 1 ? 20 : 12));
}

function join(parts) {
    if (parts.length === 1) return parts[0];
    let n = 0;
    for (const p of parts) n += p.byteLength;
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of parts) { out.set(p, off); off += p.byteLength; }
    return out;
}

// Cuts one stream's fMP4 bytes into units: {kind: 'init', bytes, timescale} at each moov,
// {kind: 'media', bytes, dts, timescale} at each mdat (with the boxes before it: prft, moof).
class UnitCutter {
    constructor() { this.q = new ByteQueue(); this.parts = []; this.dts = null; this.timescale = 90000; }
    reset() { this.q.clear(); this.parts = []; this.dts = null; }
    push(u8, emit) {
        this.q.push(u8);
        for (;;) {
            if (this.q.length < 8) return;
            let size = this.q.u32(0);
            if (size === 1) {
                if (this.q.length < 16) return;
                size = this.q.u32(8) * 2 ** 32 + this.q.u32(12);
            }
            if (size < 8) throw new Error(`live: bad MP4 box size ${size}`);
            if (this.q.length < size) return;
            const type = String.fromCharCode(this.q.at(4), this.q.at(5), this.q.at(6), this.q.at(7));
            const box = this.q.take(size);
            this.parts.push(box);
            const whole = boxes(box, 0, box.byteLength)[0];
            if (type === 'moov') {
                this.timescale = (whole && timescale(box, whole)) || this.timescale;
                emit({ kind: 'init', bytes: join(this.parts), timescale: this.timescale });
                this.parts = [];
            } else if (type === 'moof') {
                this.dts = whole ? decodeTime(box, whole) : null;
            } else if (type === 'mdat') {
                emit({ kind: 'media', bytes: join(this.parts), dts: this.dts, timescale: this.timescale });
                this.parts = [];
                this.dts = null;
            }
        }
    }
}

// One multiplexed response. Calls mux.onConn*(this, ...) as it goes.
class MuxConn {
    constructor(mux, keys) {
        this.mux = mux;
        this.keys = keys;
        this.ctl = new AbortController();
        this.cutters = keys.map(() => new UnitCutter());
        this.heard = false;
        this.closed = false;
        this.run();
    }

    abort() {
        this.closed = true;
        this.ctl.abort();
    }

    async run() {
        let err = null;
        try {
            const resp = await fetch(api.liveMuxUrl(this.keys), { signal: this.ctl.signal, cache: 'no-store' });
            if (!resp.ok) throw await errorFrom(resp);
            const reader = resp.body.getReader();
            const q = new ByteQueue();
            for (;;) {
                const { done, value } = await reader.read();
                if (this.closed) { reader.cancel().catch(() => {}); return; }
                if (done) break;
                q.push(value);
                while (q.length >= 8) {
                    const len = q.u32(4);
                    if (q.length < 8 + len) break;
                    const index = q.at(0), type = q.at(1);
                    q.take(8);
                    const payload = q.take(len);
                    this.message(index, type, payload);
                    if (this.closed) { reader.cancel().catch(() => {}); return; }
                }
            }
        } catch (e) {
            if (this.closed) return;
            err = e;
        }
        if (!this.closed) {
            this.closed = true;
            this.mux.onConnEnd(this, err);
        }
    }

    message(index, type, payload) {
        const key = this.keys[index];
        if (key === undefined) return;   // not one of ours: ignore
        if (!this.heard) {
            this.heard = true;
            this.mux.onConnHeard(this);
        }
        if (type === T_STATE) {
            let st;
            try {
                st = JSON.parse(new TextDecoder().decode(payload));
            } catch {
                st = { state: 'unavailable', message: 'bad STATE message' };
            }
            // every (re)join starts with an init segment: nothing half-cut survives it
            if (st.state === 'live') this.cutters[index].reset();
            this.mux.deliver(this, key, (p) => p.muxState(st));
        } else if (type === T_MEDIA) {
            try {
                this.cutters[index].push(payload, (unit) => this.mux.deliver(this, key, (p) => p.muxUnit(unit)));
            } catch (e) {
                this.cutters[index].reset();
                this.mux.deliver(this, key, (p) => p.muxBroken(e.message));
            }
        } else if (type === T_END) {
            this.cutters[index].reset();
            this.mux.deliver(this, key, (p) => p.muxEnd());
        }
    }
}

// Players must offer: key ("camera:stream"), muxState(st), muxUnit(unit), muxEnd(),
// muxBroken(message), muxLost(kind, detail) and muxJoined (set by the mux: false until the
// player's stream starts anew on a response, i.e. a "live" STATE it can begin with).
export class LiveMux {
    constructor() {
        this.players = new Set();
        this.current = null;     // the response tiles are fed from
        this.next = null;        // a newer one, waiting for its first message
        this.timer = null;
        this.backoff = BACKOFF_MIN_MS;
        this.failures = 0;
    }

    register(player) {
        player.muxJoined = false;
        this.players.add(player);
        this.schedule(DEBOUNCE_MS);
    }

    unregister(player) {
        if (!this.players.delete(player)) return;
        const key = player.key;
        // only the set matters here: another tile may still show the same stream
        if (![...this.players].some((p) => p.key === key)) this.schedule(DEBOUNCE_MS);
    }

    // A player that lost its decoder state needs its stream from the keyframe again.
    rejoin(player) {
        player.muxJoined = false;
        this.schedule(DEBOUNCE_MS);
    }

    keys() {
        const set = new Set([...this.players].map((p) => p.key));
        return [...set].sort((a, b) => {
            const [ca, sa] = a.split(':'), [cb, sb] = b.split(':');
            return Number(ca) - Number(cb) || (sa < sb ? -1 : sa > sb ? 1 : 0);
        }).slice(0, MAX_STREAMS);
    }

    schedule(ms) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.open(), ms);
    }

    open() {
        this.timer = null;
        const keys = this.keys();
        if (this.next) { this.next.abort(); this.next = null; }
        if (!keys.length) {
            if (this.current) { this.current.abort(); this.current = null; }
            return;
        }
        this.next = new MuxConn(this, keys);
    }

    onConnHeard(conn) {
        if (conn !== this.next) return;
        const old = this.current;
        this.current = conn;
        this.next = null;
        this.backoff = BACKOFF_MIN_MS;
        if (old) old.abort();
        // players that wait for a fresh start of their stream get it from this response
        for (const p of this.players) p.muxJoined = false;
    }

    onConnEnd(conn, err) {
        if (conn === this.next) {
            this.next = null;
            // keep feeding from the old response (if any) and try again later
            if (!this.current) this.lost(err);
            this.retry();
        } else if (conn === this.current) {
            this.current = null;
            this.lost(err);
            if (!this.next) this.retry();
        }
    }

    lost(err) {
        for (const p of this.players) {
            p.muxJoined = false;
            p.muxLost(err && err.status >= 400 && err.status !== 503 ? 'error' : 'reconnecting', err ? err.message : '');
        }
    }

    retry() {
        if (this.timer) return;   // a change is already due
        const ms = this.backoff * (1 + Math.random() * 0.3);
        this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
        this.schedule(ms);
    }

    // Hands a message for stream `key` of `conn` to the players showing that stream.
    deliver(conn, key, fn) {
        if (conn !== this.current) return;
        for (const p of [...this.players]) if (p.key === key && this.players.has(p)) fn(p);
    }
}

export const liveMux = new LiveMux();
