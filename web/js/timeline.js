// The timeline under the grid: one row per camera, each row drawn from layers of spans
// (recordings, gaps; later motion and events), local-time labels, a "now" marker and the
// playhead, and the range marked for a case ("Mark in" / "Mark out"). The canvas carries
// data-from-ms / data-to-ms: its visible window in UTC ms, mapped linearly onto its full width.
import { t, fmtTick, fmtDateTime } from './i18n.js';

// Track providers: async (camera, fromMs, toMs, signal) => [{kind, items: [{startMs, endMs,
// title?}]}]. The console registers recordings and gaps; motion and events add theirs here.
export const trackProviders = [];
export function addTrackProvider(fn) { trackProviders.push(fn); }

export const ZOOMS = [10 * 60e3, 3600e3, 6 * 3600e3, 24 * 3600e3];
export const ZOOM_KEYS = ['tl.z10m', 'tl.z1h', 'tl.z6h', 'tl.z24h'];

// How each kind of layer is painted; a later track kind adds its row here.
export const KIND_STYLE = {
    recording: { fill: '#2f9e6a', y: 0.2, h: 0.6 },
    gap: { fill: 'rgba(214, 79, 79, 0.55)', y: 0.35, h: 0.3 },
    motion: { fill: '#e6a23c', y: 0.05, h: 0.2 },
    event: { fill: '#d0463c', y: 0.05, h: 0.9 },
    activity: { fill: '#ff7a28', y: 0.8, h: 0.2 },   // the heat strip; each item has its own fill
};

// Tick and label steps (minutes) per visible span.
const STEPS = [
    { upTo: 15 * 60e3, tick: 1, label: 2 },
    { upTo: 90 * 60e3, tick: 5, label: 10 },
    { upTo: 8 * 3600e3, tick: 30, label: 60 },
    { upTo: Infinity, tick: 60, label: 180 },
];
const AXIS_H = 22;

export class Timeline {
    // opts.onSeek(utcMs) when a click or drag ends; opts.onScrub(utcMs) while dragging.
    constructor(canvas, opts) {
        this.canvas = canvas;
        this.opts = opts;
        this.rows = [];
        this.zoomIndex = 1;
        this.span = ZOOMS[1];
        this.fromMs = Date.now() - this.span * 0.9;
        this.playheadMs = null;
        this.marks = { inMs: null, outMs: null };   // the range marked for a case (either may be null)
        this.dragMs = null;
        this.pinnedUntil = 0;
        this.hover = null;
        new ResizeObserver(() => this.draw()).observe(canvas);
        canvas.addEventListener('pointerdown', (e) => this.onDown(e));
        canvas.addEventListener('pointermove', (e) => this.onMove(e));
        canvas.addEventListener('pointerup', (e) => this.onUp(e));
        canvas.addEventListener('pointercancel', () => { this.dragMs = null; this.draw(); });
        canvas.addEventListener('pointerleave', () => { this.hover = null; this.draw(); });
        canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    }

    get toMs() { return this.fromMs + this.span; }

    // rows: [{id, label, layers: [{kind, items: [{startMs, endMs, title?}]}]}]
    setRows(rows) {
        this.rows = rows;
        this.draw();
    }

    setZoom(index, aroundMs) {
        index = Math.max(0, Math.min(ZOOMS.length - 1, index));
        const around = aroundMs ?? this.playheadMs ?? Date.now();
        const frac = (around - this.fromMs) / this.span;
        this.zoomIndex = index;
        this.span = ZOOMS[index];
        this.fromMs = around - this.span * (frac >= 0 && frac <= 1 ? frac : 0.5);
        this.draw();
        if (this.opts.onWindow) this.opts.onWindow();
    }

    zoomBy(delta, aroundMs) { this.setZoom(this.zoomIndex + delta, aroundMs); }

    // Keeps `ms` in view: live keeps "now" near the right edge; playback pages when the
    // playhead leaves the window. A window the user panned stays put for a while.
    follow(ms, live) {
        if (this.dragMs != null || performance.now() < this.pinnedUntil) return;
        const from = this.fromMs;
        if (live) this.fromMs = ms - this.span * 0.9;
        else if (ms < from + this.span * 0.02 || ms > from + this.span * 0.98) this.fromMs = ms - this.span / 2;
        if (this.fromMs !== from && this.opts.onWindow) this.opts.onWindow();
    }

    xToMs(x) { return this.fromMs + (x / this.canvas.clientWidth) * this.span; }
    msToX(ms) { return ((ms - this.fromMs) / this.span) * this.canvas.clientWidth; }

    onDown(e) {
        if (e.button !== 0) return;
        this.canvas.setPointerCapture(e.pointerId);
        this.dragMs = this.xToMs(e.offsetX);
        if (this.opts.onScrub) this.opts.onScrub(this.dragMs);
        this.draw();
    }

    onMove(e) {
        this.hover = { x: e.offsetX, y: e.offsetY };
        if (this.dragMs != null) {
            this.dragMs = this.xToMs(Math.max(0, Math.min(this.canvas.clientWidth, e.offsetX)));
            if (this.opts.onScrub) this.opts.onScrub(this.dragMs);
        }
        this.updateTitle();
        this.draw();
    }

    onUp() {
        if (this.dragMs == null) return;
        const ms = Math.min(this.dragMs, Date.now());
        this.dragMs = null;
        this.playheadMs = ms;
        this.opts.onSeek(ms);
        this.draw();
    }

    onWheel(e) {
        e.preventDefault();
        if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
            const d = (e.shiftKey ? e.deltaY : e.deltaX) || e.deltaY;
            this.fromMs += Math.sign(d) * this.span * 0.1;
            this.pinnedUntil = performance.now() + 30000;
            this.draw();
            if (this.opts.onWindow) this.opts.onWindow();
        } else {
            this.zoomBy(e.deltaY > 0 ? 1 : -1, this.xToMs(e.offsetX));
        }
    }

    rowAt(y) {
        const rowH = this.rowHeight();
        const i = Math.floor(y / rowH);
        return i >= 0 && i < this.rows.length ? this.rows[i] : null;
    }

    rowHeight() { return this.rows.length > 6 ? 12 : 20; }

    updateTitle() {
        if (!this.hover) return;
        const ms = this.xToMs(this.hover.x);
        const row = this.rowAt(this.hover.y);
        let text = fmtDateTime(ms);
        if (row) {
            let what = null;
            for (const layer of row.layers) {
                for (const it of layer.items) {
                    if (ms >= it.startMs && ms < it.endMs) what = it.title || t('tl.kind.' + layer.kind);
                }
            }
            text = `${row.label} · ${text}${what ? ' · ' + what : ''}`;
        }
        this.canvas.title = text;
    }

    draw() {
        const c = this.canvas;
        const rowH = this.rowHeight();
        const cssH = AXIS_H + Math.max(2, this.rows.length) * rowH;
        if (c.style.height !== cssH + 'px') c.style.height = cssH + 'px';
        const dpr = window.devicePixelRatio || 1;
        const w = c.clientWidth, h = cssH;
        if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
            c.width = Math.round(w * dpr);
            c.height = Math.round(h * dpr);
        }
        c.dataset.fromMs = String(Math.round(this.fromMs));
        c.dataset.toMs = String(Math.round(this.toMs));
        const g = c.getContext('2d');
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        g.clearRect(0, 0, w, h);
        const css = getComputedStyle(c);
        const fg = css.color || '#ddd';
        const rowsH = h - AXIS_H;

        this.rows.forEach((row, i) => {
            const y0 = i * rowH;
            g.fillStyle = i % 2 ? 'rgba(255,255,255,0.03)' : 'rgba(255,255,255,0.06)';
            g.fillRect(0, y0, w, rowH);
            for (const layer of row.layers) {
                const st = KIND_STYLE[layer.kind] || { fill: '#888', y: 0.3, h: 0.4 };
                g.fillStyle = st.fill;
                for (const it of layer.items) {
                    if (it.endMs < this.fromMs || it.startMs > this.toMs) continue;
                    const x0 = Math.max(0, this.msToX(it.startMs));
                    const x1 = Math.min(w, this.msToX(it.endMs));
                    g.fillStyle = it.fill || st.fill;
                    g.fillRect(x0, y0 + rowH * st.y, Math.max(1, x1 - x0), rowH * st.h);
                }
            }
            g.fillStyle = fg;
            g.font = `${Math.min(11, rowH - 2)}px system-ui, sans-serif`;
            g.textBaseline = 'middle';
            g.globalAlpha = 0.85;
            g.fillText(row.label, 4, y0 + rowH / 2);
            g.globalAlpha = 1;
        });

        // Ticks and labels on local-time boundaries.
        const step = STEPS.find((s) => this.span <= s.upTo);
        g.strokeStyle = fg;
        g.fillStyle = fg;
        g.font = '11px system-ui, sans-serif';
        g.textBaseline = 'top';
        g.textAlign = 'center';
        for (const tick of localTicks(this.fromMs, this.toMs, step.tick)) {
            const x = Math.round(this.msToX(tick.ms)) + 0.5;
            const d = new Date(tick.ms);
            const minutes = d.getHours() * 60 + d.getMinutes();
            const major = minutes % step.label === 0;
            g.globalAlpha = major ? 0.5 : 0.2;
            g.beginPath();
            g.moveTo(x, major ? 0 : rowsH - 4);
            g.lineTo(x, rowsH + (major ? 5 : 3));
            g.stroke();
            g.globalAlpha = 1;
            if (major) {
                const label = fmtTick(tick.ms, minutes === 0);
                const half = g.measureText(label).width / 2;
                g.fillText(label, Math.max(half, Math.min(w - half, x)), rowsH + 6);
            }
        }
        g.textAlign = 'start';

        const marker = (ms, color, width) => {
            if (ms == null || ms < this.fromMs || ms > this.toMs) return;
            const x = Math.round(this.msToX(ms)) + 0.5;
            g.strokeStyle = color;
            g.lineWidth = width;
            g.beginPath();
            g.moveTo(x, 0);
            g.lineTo(x, rowsH);
            g.stroke();
            g.lineWidth = 1;
        };
        // the marked range: a band over the rows between the two marks, a bracket at each
        const { inMs, outMs } = this.marks;
        if (inMs != null && outMs != null) {
            const x0 = Math.max(0, this.msToX(Math.min(inMs, outMs))), x1 = Math.min(w, this.msToX(Math.max(inMs, outMs)));
            if (x1 > x0) {
                g.fillStyle = 'rgba(77, 163, 255, 0.22)';
                g.fillRect(x0, 0, Math.max(1, x1 - x0), rowsH);
            }
        }
        const bracket = (ms, dir) => {
            if (ms == null || ms < this.fromMs || ms > this.toMs) return;
            const x = Math.round(this.msToX(ms)) + 0.5;
            marker(ms, '#7fbfff', 2);
            g.fillStyle = '#7fbfff';
            g.fillRect(dir > 0 ? x : x - 6, 0, 6, 2);
            g.fillRect(dir > 0 ? x : x - 6, rowsH - 2, 6, 2);
        };
        const swapped = inMs != null && outMs != null && outMs < inMs;   // marked out before in
        bracket(inMs, swapped ? -1 : 1);
        bracket(outMs, swapped ? 1 : -1);

        const now = Date.now();
        marker(now, '#4da3ff', 1);
        if (now >= this.fromMs && now <= this.toMs) {
            g.fillStyle = '#4da3ff';
            g.font = '10px system-ui, sans-serif';
            g.textAlign = 'right';
            g.fillText(t('tl.now'), this.msToX(now) - 3, rowsH - 12);
            g.textAlign = 'start';
        }
        marker(this.dragMs ?? this.playheadMs, '#ffd24d', 2);
        if (this.hover && this.dragMs == null) marker(this.xToMs(this.hover.x), 'rgba(255,255,255,0.35)', 1);
    }
}

// Tick instants between from and to, every `stepMin` minutes of local time (DST-safe:
// steps are taken with local calendar arithmetic, not by adding milliseconds).
function localTicks(fromMs, toMs, stepMin) {
    const out = [];
    const d = new Date(fromMs);
    if (stepMin < 60) {
        d.setMinutes(Math.floor(d.getMinutes() / stepMin) * stepMin, 0, 0);
    } else {
        d.setMinutes(0, 0, 0);
    }
    let guard = 0;
    while (d.getTime() <= toMs && guard++ < 2000) {
        if (d.getTime() >= fromMs) out.push({ ms: d.getTime() });
        if (stepMin < 60) d.setMinutes(d.getMinutes() + stepMin);
        else d.setHours(d.getHours() + stepMin / 60);
    }
    return out;
}
