// The zone editor of a camera (cameras.admin), under the camera register: a snapshot of the
// camera with its zones drawn over it, the list of zones, and a polygon drawn by clicking
// points on the picture (closed with a click on the first point or "Finish"). Points are
// fractions of the picture (0..1). "Save" sends all zones (PUT); the server checks them and
// its message shows when it refuses (400).
import { api } from './api.js';
import { t } from './i18n.js';
import { errorText } from './auth.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const CLOSE_PX = 10;

export class ZoneEditor {
    constructor({ cameras }) {
        this.cameras = cameras;
        this.root = $('zone-editor');
        this.img = $('zone-snapshot');
        this.svg = $('zone-svg');
        this.listEl = $('zone-list');
        this.status = $('zone-status');
        this.camera = null;
        this.zones = [];
        this.points = [];
        $('zone-picture').addEventListener('click', (e) => this.onClick(e));
        $('zone-finish').addEventListener('click', () => this.finish());
        $('zone-undo').addEventListener('click', () => { this.points.pop(); this.draw(); });
        $('zone-save').addEventListener('click', () => this.save());
        $('zone-close').addEventListener('click', () => this.close());
    }

    async open(id) {
        this.camera = id;
        this.points = [];
        this.zones = [];
        const cam = this.cameras().find((c) => c.id === id);
        $('zone-title').textContent = t('zn.title', { name: cam ? cam.name : `#${id}` });
        this.root.dataset.camera = String(id);
        this.root.hidden = false;
        this.img.src = api.snapshotUrl(id, 640);
        this.setStatus('', false);
        this.render();
        try {
            this.zones = await api.zones(id);
            if (this.camera !== id) return;
            this.render();
        } catch (e) {
            this.setStatus(errorText(e), true);
        }
        this.root.scrollIntoView({ block: 'nearest' });
    }

    close() {
        this.root.hidden = true;
        this.camera = null;
        this.img.removeAttribute('src');
    }

    setStatus(text, error) {
        this.status.textContent = text;
        this.status.classList.toggle('error', !!error);
    }

    onClick(e) {
        const r = this.img.getBoundingClientRect();
        const x = (e.clientX - r.left) / r.width, y = (e.clientY - r.top) / r.height;
        if (x < 0 || x > 1 || y < 0 || y > 1) return;
        if (this.points.length >= 3) {
            const [fx, fy] = this.points[0];
            if (Math.hypot((fx - x) * r.width, (fy - y) * r.height) <= CLOSE_PX) { this.finish(); return; }
        }
        this.points.push([Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000]);
        this.draw();
    }

    // The drawn polygon becomes a zone with the form's name, kind, sensitivity, minimum size.
    finish() {
        const name = $('zone-name').value.trim();
        if (!this.points.length) { this.setStatus(t('zn.needPoints'), true); return; }
        if (!name) { this.setStatus(t('zn.needName'), true); return; }
        const zone = { name, kind: $('zone-kind').value, points: this.points };
        const sens = $('zone-sensitivity').value, area = $('zone-min-area').value;
        if (sens !== '') zone.sensitivity = Number(sens);
        if (area !== '') zone.min_area = Number(area);
        this.zones = this.zones.filter((z) => z.name !== name).concat([zone]);
        this.points = [];
        $('zone-name').value = '';
        this.setStatus(t('zn.added', { name }), false);
        this.render();
    }

    async save() {
        const id = this.camera;
        if (id == null) return;
        $('zone-save').disabled = true;
        try {
            await api.setZones(id, this.zones);
            this.zones = await api.zones(id);
            this.setStatus(t('zn.saved', { n: this.zones.length }), false);
            this.render();
        } catch (e) {
            this.setStatus(e.message && e.code === 'bad_request' ? t('zn.refused', { message: e.message }) : errorText(e), true);
        } finally {
            $('zone-save').disabled = false;
        }
    }

    render() {
        this.listEl.replaceChildren(...this.zones.map((z, i) => {
            const li = document.createElement('li');
            li.dataset.zone = z.name;
            li.dataset.kind = z.kind;
            const text = document.createElement('span');
            const extra = [t('zn.points', { n: z.points.length })];
            if (z.sensitivity != null) extra.push(t('zn.sensShort', { n: z.sensitivity }));
            if (z.min_area != null) extra.push(t('zn.areaShort', { n: z.min_area }));
            text.textContent = `${z.name} · ${t('zn.kind.' + (z.kind === 'mask' ? 'mask' : 'detect'))} · ${extra.join(' · ')}`;
            const del = document.createElement('button');
            del.type = 'button';
            del.className = 'zone-delete';
            del.textContent = t('zn.delete');
            del.addEventListener('click', () => { this.zones.splice(i, 1); this.render(); });
            li.append(text, del);
            return li;
        }));
        this.draw();
    }

    draw() {
        const shapes = [];
        const poly = (pts, cls, closed) => {
            const e = document.createElementNS(SVG, closed ? 'polygon' : 'polyline');
            e.setAttribute('points', pts.map(([x, y]) => `${x},${y}`).join(' '));
            e.setAttribute('class', cls);
            e.setAttribute('vector-effect', 'non-scaling-stroke');
            return e;
        };
        for (const z of this.zones) shapes.push(poly(z.points, 'zone ' + (z.kind === 'mask' ? 'mask' : 'detect'), true));
        if (this.points.length) shapes.push(poly(this.points, 'drawing', false));
        this.svg.replaceChildren(...shapes);
        // the points as HTML dots (circles would stretch with the picture)
        const dots = $('zone-dots');
        dots.replaceChildren(...this.points.map(([x, y], i) => {
            const d = document.createElement('span');
            d.className = i === 0 ? 'zone-dot first' : 'zone-dot';
            d.style.left = `${x * 100}%`;
            d.style.top = `${y * 100}%`;
            return d;
        }));
        $('zone-drawing').textContent = t('zn.drawing', { n: this.points.length });
    }
}
