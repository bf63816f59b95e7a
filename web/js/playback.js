// Playback of recordings: the HLS VOD (or EVENT) playlist of sargasd played with the vendored
// hls.js (loaded by index.html as the global `Hls`). One PlaybackPlayer per tile; the
// synchronisation of several tiles lives in sync.js.
import { api } from './api.js';
import { mediaToUtc, utcToMedia, playlistEndUtc } from './time.js';

// One playlist covers ten minutes from the moment asked for: the server reads the fragment
// index of every file in the window before answering, so a short window keeps a seek fast;
// when playback runs past its end the sync loop loads the next window (sync.js).
// localStorage 'sargas.playlistWindowS' overrides it (the browser test uses a few seconds
// to see playback roll over from one window to the next).
const WINDOW_MS = 600 * 1000;
const windowMs = () => {
    const s = Number(window.localStorage && localStorage.getItem('sargas.playlistWindowS'));
    return s >= 2 && s <= 6 * 3600 ? s * 1000 : WINDOW_MS;
};

export const playbackSupported = () => !!(window.Hls && window.Hls.isSupported());

// onStatus(kind, detail): 'loading' | 'playing' | 'waiting' | 'norecording' | 'error'
export class PlaybackPlayer {
    constructor(video, cameraId, stream, onStatus) {
        this.video = video;
        this.cameraId = cameraId;
        this.stream = stream;
        this.onStatus = onStatus || (() => {});
        this.hls = null;
        this.frags = null;      // fragments of the current playlist, once loaded
        this.live = false;      // EVENT playlist still growing
        this.loadedFrom = null; // UTC ms the current playlist was asked from
        this.pending = null;    // UTC ms to seek to once the playlist is in
        this.wantPlay = false;
        this.inGap = false;
        this.failed = false;        // a fatal error: retried by the sync loop
        this.unsupported = false;   // the browser cannot decode this codec: never retried
        video.muted = true;
        video.playsInline = true;
        video.addEventListener('waiting', () => { if (!this.inGap) this.onStatus('waiting'); });
        video.addEventListener('playing', () => { if (!this.inGap) this.onStatus('playing'); });
    }

    destroy() {
        if (this.hls) this.hls.destroy();
        this.hls = null;
        this.frags = null;
    }

    // The UTC ms on screen now, or null (nothing loaded, or parked in a gap).
    utc() {
        if (!this.frags || this.inGap || this.video.readyState < 2) return null;
        return mediaToUtc(this.frags, this.video.currentTime);
    }

    // Does the loaded playlist cover `utcMs` (recorded or a gap inside it)?
    covers(utcMs) {
        if (!this.frags || !this.frags.length || this.loadedFrom == null) return false;
        if (utcMs < this.loadedFrom) return false;
        const end = playlistEndUtc(this.frags);
        return utcMs < end || (this.live && utcMs < Date.now());
    }

    // Show the moment `utcMs`: seek inside the loaded playlist, or load a new one from there.
    seekUtc(utcMs) {
        if (this.unsupported) return;
        if (!this.covers(utcMs)) return this.load(utcMs);
        const where = utcToMedia(this.frags, utcMs);
        if (!where || where.after) return this.load(utcMs);
        this.inGap = !!where.gap;
        this.gapNext = where.nextUtc || null;
        if (this.inGap) {
            this.video.pause();
            this.onStatus('norecording', where.nextUtc);
        }
        this.video.currentTime = where.media;
        if (!this.inGap && this.wantPlay) this.video.play().catch(() => {});
    }

    play() {
        this.wantPlay = true;
        if (this.frags && !this.inGap && this.video.paused) this.video.play().catch(() => {});
    }

    pause() {
        this.wantPlay = false;
        if (!this.video.paused) this.video.pause();
    }

    load(utcMs) {
        this.destroy();
        this.loadedAt = performance.now();
        this.failed = false;
        this.recovered = false;
        this.pending = utcMs;
        this.loadedFrom = utcMs;
        this.inGap = false;
        this.onStatus('loading');
        const Hls = window.Hls;
        const hls = new Hls({
            autoStartLoad: false,       // start loading at the fragment we seek to, not at 0
            maxBufferLength: 10,
            maxMaxBufferLength: 30,
            backBufferLength: 30,
            startFragPrefetch: true,
        });
        this.hls = hls;
        // A `to` in the future gets an EVENT playlist that hls.js keeps reloading as it grows.
        const to = utcMs + windowMs();
        hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => this.onLevel(data.details));
        hls.on(Hls.Events.LEVEL_UPDATED, (_e, data) => this.onLevel(data.details));
        hls.on(Hls.Events.ERROR, (_e, data) => this.onError(data));
        hls.loadSource(api.playlistUrl(this.cameraId, this.stream, utcMs, to));
        hls.attachMedia(this.video);
    }

    onLevel(details) {
        if (!details) return;
        this.frags = details.fragments;
        this.live = !!details.live;
        if (this.pending == null) return;
        const utcMs = this.pending;
        this.pending = null;
        if (!this.frags.length) {
            this.onStatus('norecording', null);
            return;
        }
        const where = utcToMedia(this.frags, utcMs) || { media: 0 };
        const pos = where.after ? this.frags[this.frags.length - 1].start : where.media;
        this.inGap = !!(where.gap || where.after);
        this.gapNext = where.nextUtc || null;
        if (this.inGap) this.onStatus('norecording', where.nextUtc || null);
        // Show the fragment's keyframe first: it needs no other frame decoded, so a picture
        // is on screen as soon as the fragment arrives; then move on to the exact moment
        // (decoding up to a GOP of 1080p frames takes a few hundred ms on a small machine).
        const key = where.key != null && !this.inGap ? where.key : pos;
        this.hls.startLoad(key);
        this.video.currentTime = key;
        if (pos - key > 0.04) {
            this.video.addEventListener('seeked', () => {
                if (this.video.currentTime < pos) this.video.currentTime = pos;
            }, { once: true });
        }
        if (this.wantPlay && !this.inGap) this.video.play().catch(() => {});
    }

    onError(data) {
        const D = window.Hls.ErrorDetails;
        const code = data.response && data.response.code;
        if (data.details === D.LEVEL_EMPTY_ERROR || (data.details === D.MANIFEST_LOAD_ERROR && code === 404)) {
            // Nothing recorded from there on (yet): an empty list, retried by the sync loop.
            this.frags = [];
            this.pending = null;
            this.onStatus('norecording', null);
            if (data.fatal) this.destroy();
            this.frags = [];
        } else if (!data.fatal) {
            return;
        } else if (data.details === D.BUFFER_ADD_CODEC_ERROR || data.details === D.MANIFEST_INCOMPATIBLE_CODECS_ERROR) {
            this.unsupported = true;
            this.onStatus('unsupported', data.mimeType || '');
            this.destroy();
        } else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR && !this.recovered) {
            this.recovered = true;
            this.hls.recoverMediaError();
        } else {
            this.failed = true;     // the sync loop retries later
            this.onStatus('error', data.details);
            this.destroy();
        }
    }
}
