// Live view: an endless fragmented-MP4 response read with fetch() and appended, in order,
// to one MSE SourceBuffer; the player chases the live edge so latency stays well under
// a second, trims what it has played, and reconnects with backoff.
import { api, errorFrom } from './api.js';

const CHASE_JUMP_S = 0.6;      // further behind than this: jump
const CHASE_TARGET_S = 0.15;   // ... to this far behind the buffered end
const CHASE_FAST_S = 0.25;     // between this and CHASE_JUMP_S: play 10 % faster
const KEEP_BEHIND_S = 10;      // buffer kept behind currentTime
const TRIM_EVERY_S = 5;        // trim once this much more than KEEP_BEHIND_S is held
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;

const sleep = (ms, signal) => new Promise((resolve) => {
    const id = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(id); resolve(); }, { once: true });
});

// onStatus(kind, detail): 'connecting' | 'playing' | 'offline' | 'unsupported' (detail: codec)
//                         | 'error' (detail: message) | 'reconnecting'
export class LivePlayer {
    constructor(video, cameraId, stream, onStatus) {
        this.video = video;
        this.cameraId = cameraId;
        this.stream = stream;
        this.onStatus = onStatus || (() => {});
        this.stopper = new AbortController();
        this.queue = [];
        this.sb = null;
        this.backoff = BACKOFF_MIN_MS;
        video.muted = true;
        video.playsInline = true;
        video.autoplay = true;
        this.run();
    }

    stop() {
        this.stopper.abort();
        this.detach();
    }

    // Seconds between what is shown and the newest frame held (null before the first frame).
    latency() {
        const b = this.video.buffered;
        return b.length ? b.end(b.length - 1) - this.video.currentTime : null;
    }

    async run() {
        const stop = this.stopper.signal;
        while (!stop.aborted) {
            const outcome = await this.session(stop).catch((e) => {
                if (!stop.aborted) this.onStatus('error', e.message);
                return 'retry';
            });
            this.detach();
            if (stop.aborted || outcome === 'done') return;
            if (outcome !== 'offline') this.onStatus('reconnecting');
            const jitter = Math.random() * 0.3 * this.backoff;
            await sleep(this.backoff + jitter, stop);
            this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
        }
    }

    // One HTTP response, start to end. Resolves 'retry', 'offline' or 'done'.
    async session(stop) {
        this.onStatus('connecting');
        const resp = await fetch(api.liveUrl(this.cameraId, this.stream), { signal: stop, cache: 'no-store' });
        if (!resp.ok) {
            const err = await errorFrom(resp);
            if (resp.status === 503) { this.onStatus('offline', err.message); return 'offline'; }
            throw err;
        }
        const codecs = resp.headers.get('X-Codecs') || 'avc1.640028';
        const mime = `video/mp4; codecs="${codecs}"`;
        if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) {
            resp.body.cancel().catch(() => {});
            this.onStatus('unsupported', codecs);
            return 'done';
        }
        await this.attach(mime, stop);
        const reader = resp.body.getReader();
        stop.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
        let first = true;
        for (;;) {
            const { done, value } = await reader.read();
            if (done || stop.aborted) return 'retry';
            if (this.failed) throw new Error(this.failed);
            this.queue.push(value);
            this.pump();
            if (first) { first = false; this.backoff = BACKOFF_MIN_MS; }
        }
    }

    attach(mime, stop) {
        return new Promise((resolve, reject) => {
            stop.addEventListener('abort', () => resolve(), { once: true });
            const ms = new MediaSource();
            this.ms = ms;
            this.failed = null;
            this.started = false;
            this.url = URL.createObjectURL(ms);
            ms.addEventListener('sourceopen', () => {
                if (stop.aborted) return resolve();
                try {
                    this.sb = ms.addSourceBuffer(mime);
                    // 'sequence': frames follow in append order whatever their timestamps, so
                    // a camera reconnect (new init segment, timestamps restarting) leaves
                    // neither a hole nor an overlap in the buffer.
                    this.sb.mode = 'sequence';
                } catch (e) {
                    return reject(e);
                }
                this.sb.addEventListener('updateend', () => this.afterUpdate());
                this.sb.addEventListener('error', () => { this.failed = 'SourceBuffer error'; });
                resolve();
            }, { once: true });
            this.onVideoError = () => { this.failed = (this.video.error && this.video.error.message) || 'decode error'; };
            this.video.addEventListener('error', this.onVideoError);
            this.video.src = this.url;
        });
    }

    detach() {
        this.queue = [];
        if (this.onVideoError) this.video.removeEventListener('error', this.onVideoError);
        this.onVideoError = null;
        this.sb = null;
        if (this.url) {
            this.video.removeAttribute('src');
            this.video.load();
            URL.revokeObjectURL(this.url);
            this.url = null;
        }
        this.ms = null;
    }

    // Appends what is queued (one appendBuffer at a time; chunks that wait are joined).
    pump() {
        const sb = this.sb;
        if (!sb || sb.updating || !this.queue.length || this.ms.readyState !== 'open') return;
        if (this.trimIfDue()) return;
        let data = this.queue.length === 1 ? this.queue[0] : joinChunks(this.queue);
        this.queue = [];
        try {
            sb.appendBuffer(data);
        } catch (e) {
            if (e.name === 'QuotaExceededError') {
                this.queue.unshift(data);
                this.trimIfDue(true);
            } else {
                this.failed = e.message;
            }
        }
    }

    // Removes what lies more than KEEP_BEHIND_S behind currentTime; true if a removal started.
    trimIfDue(force) {
        const sb = this.sb, b = sb.buffered, v = this.video;
        if (!b.length) return false;
        const cut = v.currentTime - KEEP_BEHIND_S;
        if (cut - b.start(0) < (force ? 0.5 : TRIM_EVERY_S)) return false;
        sb.remove(0, cut);
        return true;
    }

    afterUpdate() {
        const v = this.video, b = this.sb && this.sb.buffered;
        if (b && b.length) {
            const end = b.end(b.length - 1);
            if (!this.started) {
                this.started = true;
                v.currentTime = Math.max(b.start(b.length - 1), end - CHASE_TARGET_S);
                v.play().catch(() => {});
                this.onStatus('playing');
            }
            this.chase(end);
        }
        this.pump();
    }

    chase(end) {
        const v = this.video;
        if (v.paused && this.started) v.play().catch(() => {});
        const behind = end - v.currentTime;
        if (behind > CHASE_JUMP_S) {
            v.currentTime = end - CHASE_TARGET_S;
            v.playbackRate = 1.0;
        } else {
            v.playbackRate = behind > CHASE_FAST_S ? 1.1 : 1.0;
        }
    }
}

function joinChunks(chunks) {
    let n = 0;
    for (const c of chunks) n += c.byteLength;
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of chunks) { out.set(c, off); off += c.byteLength; }
    return out;
}
