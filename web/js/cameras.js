// The camera list in the sidebar: state dot, name, "offline since" for cameras that are down.
// Click puts a camera in the first free tile; drag drops it on a chosen tile.
import { t, fmtSince, fmtDateTime } from './i18n.js';

export function cameraState(cam) {
    if (!cam.enabled) return 'disabled';
    const main = cam.streams && cam.streams.main;
    return (main && main.state) || 'connecting';
}

export class CameraList {
    constructor(root, onPick) {
        this.root = root;
        this.onPick = onPick;
        this.items = new Map();   // id -> {li, button, dot, name, sub}
    }

    // cameras: array from GET /cameras (or null with an error message).
    render(cameras, error) {
        if (error) {
            this.root.replaceChildren(this.note(t('cams.error', { message: error })));
            this.items.clear();
            return;
        }
        if (!cameras.length) {
            this.root.replaceChildren(this.note(t('cams.empty')));
            this.items.clear();
            return;
        }
        const seen = new Set();
        for (const cam of cameras) {
            seen.add(cam.id);
            let it = this.items.get(cam.id);
            if (!it) it = this.make(cam.id);
            this.update(it, cam);
            this.root.append(it.li);   // keeps the API's order
        }
        for (const [id, it] of this.items) if (!seen.has(id)) { it.li.remove(); this.items.delete(id); }
        for (const n of this.root.querySelectorAll('.note')) n.remove();
    }

    note(text) {
        const li = document.createElement('li');
        li.className = 'note';
        li.textContent = text;
        return li;
    }

    make(id) {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'cam';
        button.draggable = true;
        button.dataset.camera = String(id);
        const dot = document.createElement('span');
        dot.className = 'dot';
        dot.setAttribute('aria-hidden', 'true');
        const name = document.createElement('span');
        name.className = 'cam-name';
        const sub = document.createElement('span');
        sub.className = 'cam-sub';
        button.append(dot, name, sub);
        li.append(button);
        button.addEventListener('click', () => this.onPick(id));
        button.addEventListener('dragstart', (e) => {
            e.dataTransfer.setData('application/x-sargas-camera', String(id));
            e.dataTransfer.effectAllowed = 'copy';
        });
        const it = { li, button, dot, name, sub };
        this.items.set(id, it);
        return it;
    }

    update(it, cam) {
        const state = cameraState(cam);
        const main = cam.streams && cam.streams.main;
        it.dot.className = 'dot ' + state;
        it.name.textContent = cam.name;
        let sub = '';
        if (state === 'offline') {
            sub = main && main.since ? t('state.offlineSince', { time: fmtSince(Date.parse(main.since)) }) : t('state.offline');
        } else if (state === 'disabled') {
            sub = t('state.disabled');
        } else if (state === 'connecting') {
            sub = t('state.connecting');
        }
        it.sub.textContent = sub;
        it.sub.hidden = !sub;
        it.button.setAttribute('aria-label', `${cam.name}: ${sub || t('state.' + state)}`);
        it.button.title = main && main.last_error && state !== 'online' ? main.last_error : '';
    }
}

// The register of cameras (for everyone who may read the camera list, and the only view of
// cameras for roles without video, such as the auditor): number, name, state, how long
// recordings are kept, what is recorded, when it was added. No video, no snapshots.
export class CameraRegister {
    // onZones(id): opens the zone editor; only when canZones() (cameras.admin).
    constructor(tbody, note, { onZones, canZones } = {}) {
        this.tbody = tbody;
        this.note = note;
        this.onZones = onZones;
        this.canZones = canZones || (() => false);
    }

    render(cameras, error) {
        this.note.hidden = !(error || (cameras && !cameras.length));
        this.note.textContent = error ? t('cams.error', { message: error }) : t('cams.empty');
        if (error) return;
        const rows = cameras.map((cam) => {
            const tr = document.createElement('tr');
            tr.dataset.camera = String(cam.id);
            const state = cameraState(cam);
            const h = cam.retain_hours;
            const kept = !h ? '—' : h % 24 === 0 ? t('reg.days', { n: h / 24 }) : t('reg.hours', { n: h });
            const cells = [String(cam.id), cam.name, t('state.' + state), kept,
                t(cam.record_sub && cam.sub_url ? 'reg.mainSub' : 'reg.main'),
                cam.created ? fmtDateTime(Date.parse(cam.created)) : ''];
            for (const text of cells) {
                const td = document.createElement('td');
                td.textContent = text;
                tr.append(td);
            }
            tr.children[2].className = 'state ' + state;
            if (cam.created) tr.children[5].title = cam.created;
            if (this.onZones && this.canZones()) {
                const td = document.createElement('td');
                const b = document.createElement('button');
                b.type = 'button';
                b.className = 'zones-btn';
                b.dataset.camera = String(cam.id);
                b.textContent = t('zn.button');
                b.title = t('zn.buttonHint');
                b.addEventListener('click', () => this.onZones(cam.id));
                td.append(b);
                tr.append(td);
            }
            return tr;
        });
        this.tbody.replaceChildren(...rows);
    }
}
