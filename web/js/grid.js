// The grid of tiles. Each tile shows one camera, live (LivePlayer over MSE) or from
// recordings (PlaybackPlayer over hls.js); reconcile() makes the players match what the
// console's state asks for, creating and stopping them only where something changed.
import { t, fmtSince, fmtDateTime } from './i18n.js';
import { LivePlayer } from './live.js';
import { PlaybackPlayer, playbackSupported } from './playback.js';
import { api } from './api.js';

export const MAX_TILES = 16;

function el(tag, cls, attrs) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
}

// Recordings keep the camera's codec; an H.265 camera in a browser without H.265 gets a
// message instead of a black tile. (Live checks the exact codecs string its stream announces.)
function codecPlayable(cam, stream) {
    const ss = cam && cam.streams && cam.streams[stream];
    if (!ss || ss.codec !== 'h265') return true;
    const can = (c) => window.MediaSource && MediaSource.isTypeSupported(`video/mp4; codecs="${c}"`);
    return can('hvc1.1.6.L93.90') || can('hev1.1.6.L93.90');
}

const codecName = (codecs) => (/^(hvc1|hev1)/.test(codecs || '') ? 'H.265' : /^avc/.test(codecs || '') ? 'H.264' : codecs);

export class Grid {
    // hooks: onDropCamera(index, cameraId), onEnlarge(index), onRemove(index), onSelect(index)
    constructor(root, hooks) {
        this.root = root;
        this.hooks = hooks;
        this.tiles = [];
        for (let i = 0; i < MAX_TILES; i++) this.tiles.push(this.makeTile(i));
    }

    makeTile(index) {
        const node = el('div', 'tile', { 'data-index': String(index), tabindex: '0', role: 'group' });
        const overlay = el('div', 'overlay');
        const name = el('span', 'name');
        const badge = el('span', 'badge');
        const time = el('span', 'time');
        const remove = el('button', 'remove', { type: 'button' });
        remove.textContent = '×';
        overlay.append(name, badge, time, remove);
        const msg = el('div', 'msg', { 'aria-live': 'polite' });
        node.append(overlay, msg);
        const tile = { index, node, name, badge, time, msg, remove, player: null, video: null, key: '', status: null, want: null };

        node.addEventListener('dblclick', () => this.hooks.onEnlarge(index));
        node.addEventListener('keydown', (e) => {
            if (e.key === 'Enter' && e.target === node) { e.preventDefault(); this.hooks.onEnlarge(index); }
        });
        node.addEventListener('focus', () => this.hooks.onSelect(index));
        node.addEventListener('mousedown', () => this.hooks.onSelect(index));
        remove.addEventListener('click', (e) => { e.stopPropagation(); this.hooks.onRemove(index); });
        remove.addEventListener('dblclick', (e) => e.stopPropagation());
        node.addEventListener('dragover', (e) => {
            if (e.dataTransfer.types.includes('application/x-sargas-camera')) {
                e.preventDefault();
                e.dataTransfer.dropEffect = 'copy';
                node.classList.add('drop');
            }
        });
        node.addEventListener('dragleave', () => node.classList.remove('drop'));
        node.addEventListener('drop', (e) => {
            node.classList.remove('drop');
            const id = e.dataTransfer.getData('application/x-sargas-camera');
            if (!id) return;
            e.preventDefault();
            this.hooks.onDropCamera(index, Number(id));
        });
        this.root.append(node);
        return tile;
    }

    // want: per tile null (hidden) or {visible, camera (object|null), cameraId, stream, mode}
    reconcile(wants, view) {
        this.root.dataset.layout = String(view.layout);
        this.root.classList.toggle('enlarged', view.enlarged != null);
        wants.forEach((want, i) => {
            const tile = this.tiles[i];
            tile.want = want;
            tile.node.hidden = !want.visible;
            tile.node.classList.toggle('big', view.enlarged === i);
            const key = want.visible && want.cameraId != null ? `${want.mode}:${want.cameraId}:${want.stream}` : '';
            if (key !== tile.key) this.replacePlayer(tile, want, key, view);
            this.renderOverlay(tile);
        });
    }

    replacePlayer(tile, want, key, view) {
        if (tile.player) (tile.player.stop || tile.player.destroy).call(tile.player);
        if (tile.video) tile.video.remove();
        tile.player = null;
        tile.video = null;
        tile.status = null;
        tile.key = key;
        if (!key) return;
        const v = el('video', null, {
            'data-camera': String(want.cameraId), 'data-stream': want.stream, 'data-mode': want.mode,
            muted: '', playsinline: '', autoplay: '',
        });
        v.muted = true;
        tile.node.prepend(v);
        tile.video = v;
        const onStatus = (kind, detail) => { tile.status = { kind, detail }; this.renderOverlay(tile); };
        try {
            if (want.mode === 'live') {
                v.poster = api.snapshotUrl(want.cameraId);
                tile.player = new LivePlayer(v, want.cameraId, want.stream, onStatus);
            } else if (!playbackSupported()) {
                onStatus('nomse');
            } else if (!codecPlayable(want.camera, want.stream)) {
                onStatus('unsupported', 'hvc1');
            } else {
                tile.player = new PlaybackPlayer(v, want.cameraId, want.stream, onStatus);
                if (view.masterUtc != null) tile.player.load(view.masterUtc);
                if (view.playing) tile.player.play();
            }
        } catch (e) {
            onStatus('error', e.message);
        }
    }

    message(tile) {
        const want = tile.want, cam = want && want.camera, st = tile.status;
        if (!want || want.cameraId == null) return t('tile.empty');
        if (!cam) return t('tile.unknownCamera');
        if (!cam.enabled) return t('state.disabled');
        const kind = st && st.kind;
        if (want.mode === 'live') {
            const ss = cam.streams && cam.streams[want.stream];
            if (kind === 'unsupported') return t('tile.unsupported', { codec: codecName(st.detail) });
            // The server keeps a live response open while its camera is away: the camera's
            // state, polled, says so even when the player still counts as playing.
            // 'offline' from the player: no live video now; the camera may still be connecting.
            if ((kind === 'offline' && !(ss && ss.state === 'connecting')) || (ss && ss.state === 'offline')) {
                return ss && ss.since ? t('state.offlineSince', { time: fmtSince(Date.parse(ss.since)) }) : t('state.offline');
            }
            if (kind === 'playing') return '';
            if (kind === 'error') return t('tile.error', { message: st.detail || '' });
            if (kind === 'reconnecting') return t('tile.reconnecting');
            return t('state.connecting');
        }
        const p = tile.player;
        if (p instanceof PlaybackPlayer && p.inGap && !p.unsupported) {
            return p.gapNext ? t('tile.nextRecording', { time: fmtDateTime(p.gapNext) }) : t('tile.noRecording');
        }
        switch (kind) {
            case 'nomse': return t('tile.noPlayback');
            case 'unsupported': return t('tile.unsupported', { codec: codecName(st.detail) || '?' });
            case 'loading': return t('tile.loading');
            case 'waiting': return t('tile.waiting');
            case 'norecording':
                return st.detail ? t('tile.nextRecording', { time: fmtDateTime(st.detail) }) : t('tile.noRecording');
            case 'error': return t('tile.error', { message: st.detail || '' });
            default: return '';
        }
    }

    renderOverlay(tile) {
        const want = tile.want;
        const n = tile.index + 1;
        const cam = want && want.camera;
        const label = cam ? cam.name : want && want.cameraId != null ? `#${want.cameraId}` : '';
        tile.name.textContent = label;
        tile.node.setAttribute('aria-label', label ? t('tile.labelCamera', { n, name: label }) : t('tile.label', { n }));
        const has = !!(want && want.cameraId != null);
        tile.badge.hidden = !has;
        tile.remove.hidden = !has;
        tile.remove.setAttribute('aria-label', t('tile.remove'));
        tile.remove.title = t('tile.remove');
        if (has) {
            tile.badge.textContent = t(want.mode === 'live' ? 'badge.live' : 'badge.playback');
            tile.badge.className = 'badge ' + want.mode;
        }
        const msg = this.message(tile);
        tile.msg.textContent = msg;
        tile.msg.hidden = !msg;
        tile.node.classList.toggle('empty', !has);
        if (!has || want.mode === 'live') tile.time.textContent = '';
    }

    // Per-tile clock text for playback (called by the sync loop).
    showTimes() {
        for (const tile of this.tiles) {
            if (tile.player instanceof PlaybackPlayer) {
                const u = tile.player.utc();
                tile.time.textContent = u == null ? '' : fmtDateTime(u);
                this.renderOverlay(tile);
            }
        }
    }

    playbackPlayers() {
        return this.tiles.filter((x) => x.player instanceof PlaybackPlayer && !x.node.hidden).map((x) => x.player);
    }

    rerender() { for (const tile of this.tiles) this.renderOverlay(tile); }
}
