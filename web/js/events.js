// Motion in the console (playback permission): the heat strip of each timeline row (the
// camera's activity index, one cell per step, under its recording spans) and the events page
// (filters, results newest first as cards with the peak picture, "more" pages back with
// next_before; a card opens the video page in playback shortly before the event; "Add to
// case…" under a card puts the event's footage into a case: cases permission).
import { api, can } from './api.js';
import { t, fmtDateTime } from './i18n.js';
import { errorText } from './auth.js';
import { localToUtc } from './audit.js';

const $ = (id) => document.getElementById(id);
const PAGE = 24;

// Track provider: [{kind: 'activity', items: [{startMs, endMs, level, fill}]}] of the
// non-zero steps of GET /cameras/{id}/activity for the window.
export async function activityTrack(cam, fromMs, toMs, signal) {
    const r = await api.activity(cam.id, fromMs, Math.min(toMs, Date.now()), signal);
    const start = Date.parse(r.from), stepMs = (r.step_s || 1) * 1000;
    const items = [];
    (r.levels || []).forEach((level, i) => {
        if (!level) return;
        const a = Math.min(1, 0.25 + (level / 255) * 0.75);
        items.push({
            startMs: start + i * stepMs, endMs: start + (i + 1) * stepMs, level,
            fill: `rgba(255, ${Math.round(200 - (level / 255) * 170)}, 40, ${a.toFixed(2)})`,
            title: t('tl.activityLevel', { level: Math.round((level / 255) * 100) }),
        });
    });
    return [{ kind: 'activity', items }];
}

export const fmtDuration = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    return s < 60 ? t('ev.seconds', { n: s }) : t('ev.minutes', { m: Math.floor(s / 60), s: s % 60 });
};

export class EventsPage {
    // cameras(): the cameras of the console; onOpen(event): show it in playback;
    // onAddToCase(event): offer to add it to a case.
    constructor({ cameras, onOpen, onAddToCase }) {
        this.cameras = cameras;
        this.onOpen = onOpen;
        this.onAddToCase = onAddToCase;
        this.form = $('events-filter');
        this.list = $('events-list');
        this.more = $('events-more');
        this.status = $('events-status');
        this.score = $('events-score');
        this.events = [];
        this.next = null;
        this.generation = 0;
        this.form.addEventListener('submit', (e) => { e.preventDefault(); this.load(false); });
        this.more.addEventListener('click', () => this.load(true));
        this.score.addEventListener('input', () => this.showScore());
        $('events-clear').addEventListener('click', () => {
            this.form.reset();
            this.showScore();
            this.load(false);
        });
    }

    showScore() { $('events-score-value').textContent = Number(this.score.value).toFixed(2); }

    fillCameras() {
        const sel = $('events-camera');
        const chosen = new Set([...sel.selectedOptions].map((o) => o.value));
        sel.replaceChildren(...this.cameras().map((c) => {
            const o = document.createElement('option');
            o.value = String(c.id);
            o.textContent = c.name;
            o.selected = chosen.has(o.value);
            return o;
        }));
    }

    filter() {
        const f = this.form.elements;
        const cams = [...$('events-camera').selectedOptions].map((o) => o.value);
        const score = Number(f.min_score.value);
        return {
            camera: cams.join(','), zone: f.zone.value.trim(), from: localToUtc(f.from.value), to: localToUtc(f.to.value),
            min_score: score > 0 ? score : '',
        };
    }

    show() {
        this.fillCameras();
        this.showScore();
        this.load(false);
    }

    rerender() {
        this.fillCameras();
        this.render();
    }

    async load(more) {
        const gen = ++this.generation;
        this.list.dataset.state = 'loading';
        this.status.textContent = t('ev.loading');
        try {
            const r = await api.events(this.filter(), more ? this.next : undefined, PAGE);
            if (gen !== this.generation) return;
            this.events = more ? this.events.concat(r.events || []) : (r.events || []);
            this.next = r.next_before ?? null;
            this.render();
            this.list.dataset.state = 'ready';
        } catch (e) {
            if (gen !== this.generation) return;
            this.list.dataset.state = 'error';
            this.status.textContent = t('ev.error', { message: errorText(e) });
        }
    }

    // A message in the status line (e.g. what "Add to case" did), until the next load.
    say(text) { this.status.textContent = text; }

    render() {
        const names = new Map(this.cameras().map((c) => [c.id, c.name]));
        this.status.textContent = this.events.length ? t('ev.count', { n: this.events.length }) : t('ev.none');
        this.more.hidden = this.next == null;
        this.list.replaceChildren(...this.events.map((ev) => this.card(ev, names)));
    }

    card(ev, names) {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'event-card';
        b.dataset.event = String(ev.id);
        b.dataset.camera = String(ev.camera);
        b.dataset.startMs = String(Date.parse(ev.start));
        const startMs = Date.parse(ev.start);
        const img = document.createElement('img');
        img.className = 'thumb';
        img.alt = '';
        img.loading = 'lazy';
        if (ev.thumbnail) img.src = ev.thumbnail; else img.classList.add('none');
        const cam = document.createElement('span');
        cam.className = 'ev-camera';
        cam.textContent = names.get(ev.camera) || `#${ev.camera}`;
        const time = document.createElement('time');
        time.dateTime = ev.start;
        time.title = ev.start;
        time.textContent = fmtDateTime(startMs);
        const dur = document.createElement('span');
        dur.className = 'ev-duration';
        dur.textContent = ev.end ? fmtDuration(Date.parse(ev.end) - startMs) : t('ev.ongoing');
        const zones = document.createElement('span');
        zones.className = 'ev-zones';
        zones.textContent = ev.zones && ev.zones.length ? ev.zones.join(', ') : t('ev.noZone');
        const score = document.createElement('span');
        score.className = 'ev-score';
        score.textContent = t('ev.score', { score: Number(ev.peak_score || 0).toFixed(2) });
        b.append(img, cam, time, dur, zones, score);
        b.title = t('ev.open');
        b.addEventListener('click', () => this.onOpen(ev));
        li.append(b);
        if (can('cases') && this.onAddToCase) {
            const add = document.createElement('button');
            add.type = 'button';
            add.className = 'ev-add';
            add.dataset.event = String(ev.id);
            add.textContent = t('ev.addToCase');
            add.title = t('ev.addToCaseHint');
            add.addEventListener('click', () => this.onAddToCase(ev));
            li.append(add);
        }
        return li;
    }
}
