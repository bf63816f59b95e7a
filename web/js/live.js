// Live view of one tile: the fragmented MP4 of one camera stream, delivered by the page's
// LiveMux (livemux.js: every live tile over one HTTP response), appended in order to one MSE
// SourceBuffer; the player chases the live edge so latency stays well under a second and
// trims what it has played. When its response is replaced (the set of streams changed) or
// its stream starts anew, the server sends the init segment and the GOP up to now again: the
// player skips what it already holds, so the picture goes on without a jump.
import { liveMux } from './livemux.js';

const CHASE_JUMP_S = 0.6;      // further behind than this: jump
const CHASE_TARGET_S = 0.15;   // ... to this far behind the buffered end
const CHASE_FAST_S = 0.25;     // between this and CHASE_JUMP_S: play 10 % faster
const KEEP_BEHIND_S = 10;      // buffer kept behind currentTime
const TRIM_EVERY_S = 5;        // trim once this much more than KEEP_BEHIND_S is held
const REJOIN_WINDOW_S = 15;    // a re-sent fragment at most this far behind the last one is skipped
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;

function sameBytes(a, b) {
    if (a.byteLength !== b.byteLength) return false;
    for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
    return true;
}

// onStatus(kind, detail): 'connecting' | 'playing' | 'offline' (detail: message)
//                         | 'unsupported' (detail: codec) | 'error' (detail: message) | 'reconnecting'
export class LivePlayer {
    constructor(video, cameraId, stream, onStatus) {
        this.video = video;
        this.cameraId = cameraId;
        this.stream = stream;
        this.key = `${cameraId}:${stream}`;
        this.onStatus = onStatus || (() => {});
        this.status = null;
        this.queue = [];          // Uint8Array to append, or {mime} to switch the codec
        this.ms = null;
        this.sb = null;
        this.url = null;
        this.mime = null;
        this.muxJoined = false;   // set by the mux; true from a "live" STATE on
        this.live = false;
        this.unsupported = false;
        this.initBytes = null;    // the init segment appended last
        this.lastDts = null;      // tfdt of the fragment appended last
        this.rejoining = false;   // a new start of the stream: skip what is held already
        this.stopped = false;
        this.resetTimer = null;
        this.backoff = BACKOFF_MIN_MS;
        video.muted = true;
        video.playsInline = true;
        video.autoplay = true;
        this.setStatus('connecting');
        this.attach();
        liveMux.register(this);
    }

    stop() {
        this.stopped = true;
        clearTimeout(this.resetTimer);
        liveMux.unregister(this);
        this.detach();
    }

    setStatus(kind, detail) {
        this.status = kind;
        this.onStatus(kind, detail);
    }

    // Seconds between what is shown and the newest frame held (null before the first frame).
    latency() {
        const b = this.video.buffered;
        return b.length ? b.end(b.length - 1) - this.video.currentTime : null;
    }

    // ---- what the mux delivers --------------------------------------------------------------
    muxState(st) {
        if (this.stopped || !this.ms) return;
        if (st.state === 'live') {
            const codecs = st.codecs || 'avc1.640028';
            const mime = `video/mp4; codecs="${codecs}"`;
            if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) {
                this.unsupported = true;
                this.muxJoined = false;
                this.setStatus('unsupported', codecs);
                return;
            }
            this.unsupported = false;
            this.muxJoined = true;
            this.live = true;
            this.rejoining = this.lastDts != null;
            this.useMime(mime);
            if (this.status !== 'playing') this.setStatus('connecting');
        } else {
            this.live = false;
            this.muxJoined = false;
            if (st.state === 'not_found') this.setStatus('error', st.message || 'not found');
            else this.setStatus('offline', st.message || '');
        }
    }

    muxUnit(unit) {
        if (this.stopped || !this.muxJoined || this.unsupported || !this.ms) return;
        if (unit.kind === 'init') {
            if (this.rejoining && this.initBytes && sameBytes(this.initBytes, unit.bytes)) return;
            this.rejoining = false;
            this.initBytes = unit.bytes;
        } else {
            if (this.rejoining && unit.dts != null && this.lastDts != null) {
                const back = this.lastDts - unit.dts;
                if (back >= 0 && back <= REJOIN_WINDOW_S * unit.timescale) return;   // held already
            }
            this.rejoining = false;
            if (unit.dts != null) this.lastDts = unit.dts;
        }
        this.queue.push(unit.bytes);
        this.pump();
    }

    // The server ends the stream (camera removed, disabled, reconfigured) and joins it again
    // when it can: a "live" STATE follows.
    muxEnd() {
        if (this.stopped) return;
        this.live = false;
        this.muxJoined = false;
        this.setStatus('connecting');
    }

    muxBroken(message) { this.fail(message); }

    // The response failed or ended; the mux reconnects.
    muxLost(kind, detail) {
        if (this.stopped) return;
        this.live = false;
        if (kind === 'error') this.setStatus('error', detail);
        else if (this.status !== 'offline' && this.status !== 'unsupported') this.setStatus('reconnecting');
    }

    // ---- MSE ----------------------------------------------------------------------------------
    attach() {
        const ms = new MediaSource();
        this.ms = ms;
        this.started = false;
        this.lastEnd = 0;
        this.url = URL.createObjectURL(ms);
        ms.addEventListener('sourceopen', () => {
            if (ms === this.ms) this.createBuffer();
        }, { once: true });
        this.onVideoError = () => this.fail((this.video.error && this.video.error.message) || 'decode error');
        this.video.addEventListener('error', this.onVideoError);
        this.video.src = this.url;
    }

    detach() {
        this.queue = [];
        if (this.onVideoError) this.video.removeEventListener('error', this.onVideoError);
        this.onVideoError = null;
        this.sb = null;
        this.mime = null;
        if (this.url) {
            this.video.removeAttribute('src');
            this.video.load();
            URL.revokeObjectURL(this.url);
            this.url = null;
        }
        this.ms = null;
        this.muxJoined = false;
        this.initBytes = null;
        this.lastDts = null;
        this.rejoining = false;
    }

    // A decode or append error: a new MediaSource, and the stream from its keyframe again.
    fail(message) {
        if (this.stopped || this.resetTimer) return;
        this.detach();
        this.setStatus('error', message);
        const wait = this.backoff * (1 + Math.random() * 0.3);
        this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
        this.resetTimer = setTimeout(() => {
            this.resetTimer = null;
            if (this.stopped) return;
            this.setStatus('reconnecting');
            this.attach();
            liveMux.rejoin(this);
        }, wait);
    }

    useMime(mime) {
        if (!this.sb) {
            this.mime = mime;
            this.createBuffer();
        } else if (mime !== this.mime) {
            this.mime = mime;
            this.queue.push({ mime });
            this.pump();
        }
    }

    createBuffer() {
        const ms = this.ms;
        if (this.sb || !this.mime || !ms || ms.readyState !== 'open') return;
        let sb;
        try {
            sb = ms.addSourceBuffer(this.mime);
            // 'sequence': frames follow in append order whatever their timestamps, so a
            // stream that starts anew after a gap (camera away, server restarted) continues
            // the buffer without a hole.
            sb.mode = 'sequence';
        } catch (e) {
            this.fail(e.message);
            return;
        }
        this.sb = sb;
        sb.addEventListener('updateend', () => { if (sb === this.sb) this.afterUpdate(); });
        sb.addEventListener('error', () => { if (sb === this.sb) this.fail('SourceBuffer error'); });
        this.pump();
    }

    // Appends what is queued (one appendBuffer at a time; chunks that wait are joined).
    pump() {
        const sb = this.sb;
        if (!sb || sb.updating || !this.queue.length || this.ms.readyState !== 'open') return;
        if (this.trimIfDue()) return;
        if (!(this.queue[0] instanceof Uint8Array)) {
            // a new codec on the same SourceBuffer (the camera was reconfigured)
            const { mime } = this.queue.shift();
            try {
                sb.changeType(mime);
            } catch (e) {
                this.fail(e.message);
                return;
            }
            this.pump();
            return;
        }
        let n = 0;
        while (n < this.queue.length && this.queue[n] instanceof Uint8Array) n++;
        const data = n === 1 ? this.queue[0] : joinChunks(this.queue.slice(0, n));
        this.queue.splice(0, n);
        try {
            sb.appendBuffer(data);
        } catch (e) {
            if (e.name === 'QuotaExceededError') {
                this.queue.unshift(data);
                this.trimIfDue(true);
            } else {
                this.fail(e.message);
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
            }
            if (end > this.lastEnd && this.live && this.status !== 'playing') {
                this.backoff = BACKOFF_MIN_MS;
                this.setStatus('playing');
            }
            this.lastEnd = end;
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
