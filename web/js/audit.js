// The audit page (audit.read: administrators and auditors): who did what, when, to which
// camera, newest first. Filters by user, camera, action (or a family of actions: "live."),
// and a time range picked in local time and sent in UTC. "More" pages back with
// next_before; "Export CSV" downloads the same selection as /api/v1/audit.csv.
import { api } from './api.js';
import { t, tOr, fmtDateTime } from './i18n.js';
import { errorText } from './auth.js';

// The actions the server writes, and (ending in '.') the families they belong to.
export const ACTIONS = [
    'login', 'logout',
    'live.', 'live.start', 'live.stop', 'playback', 'snapshot', 'download',
    'camera.', 'camera.add', 'camera.update', 'camera.remove',
    'user.', 'user.add', 'user.update', 'user.remove', 'user.password', 'grant.set',
    'token.', 'token.add', 'token.revoke', 'session.revoke',
    'case.', 'case.create', 'case.close', 'lock.', 'lock.add', 'lock.release',
    'export.', 'export.create', 'export.finish', 'export.download', 'export.delete',
    'access.denied', 'audit.export',
    'server.', 'server.start', 'server.stop', 'setup',
];
const PAGE = 100;

const $ = (id) => document.getElementById(id);

// A datetime-local value (local wall time, no offset) as RFC 3339 UTC, or '' when empty.
export function localToUtc(value) {
    if (!value) return '';
    const ms = new Date(value).getTime();
    return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
}

/* Replaces the options of a <select> with "any" and the given items, keeping the choice when
 * it is still offered. */
function fillSelect(sel, anyText, items) {
    const v = sel.value;
    const any = document.createElement('option');
    any.value = '';
    any.textContent = anyText;
    sel.replaceChildren(any, ...items.map(({ value, text, className }) => {
        const o = document.createElement('option');
        o.value = value;
        o.textContent = text;
        if (className) o.className = className;
        return o;
    }));
    sel.value = [...sel.options].some((o) => o.value === v) ? v : '';
}

export class AuditPage {
    // cameras(): the cameras of the console (names for the table, choices for the filter);
    // userNames(): Promise of the user names to suggest (empty without users.read).
    constructor({ cameras, userNames }) {
        this.cameras = cameras;
        this.userNames = userNames;
        this.form = $('audit-filter');
        this.table = $('audit-table');
        this.tbody = this.table.querySelector('tbody');
        this.more = $('audit-more');
        this.status = $('audit-status');
        this.entries = [];
        this.next = null;
        this.generation = 0;
        this.fillActions();
        this.form.addEventListener('submit', (e) => { e.preventDefault(); this.load(); });
        this.form.addEventListener('input', () => this.updateCsv());
        this.form.addEventListener('change', () => this.updateCsv());
        $('audit-clear').addEventListener('click', () => { this.form.reset(); this.load(); });
        this.more.addEventListener('click', () => this.load(true));
        this.updateCsv();
    }

    fillActions() {
        fillSelect($('audit-action'), t('aud.anyAction'), ACTIONS.map((a) => ({
            value: a,
            text: a.endsWith('.') ? t('aud.allOf', { prefix: a }) : `${a} · ${tOr('act.' + a, a)}`,
            className: a.endsWith('.') ? 'family' : '',
        })));
    }

    fillCameras() {
        fillSelect($('audit-camera'), t('aud.any'),
            this.cameras().map((c) => ({ value: String(c.id), text: c.name })));
    }

    async fillUsers() {
        const names = await this.userNames().catch(() => []);
        $('audit-users').replaceChildren(...names.map((n) => {
            const o = document.createElement('option');
            o.value = n;
            return o;
        }));
    }

    // The filter as the API takes it; null (with a message) when the time range is wrong.
    filter() {
        const f = {
            user: $('audit-user').value.trim(),
            camera: $('audit-camera').value,
            action: $('audit-action').value,
            from: localToUtc($('audit-from').value),
            to: localToUtc($('audit-to').value),
        };
        if (f.from && f.to && f.from >= f.to) return null;
        return f;
    }

    updateCsv() {
        const f = this.filter();
        const a = $('audit-csv');
        a.href = api.auditCsvUrl(f || {});
        a.toggleAttribute('aria-disabled', !f);
    }

    async show() {
        this.fillCameras();
        this.fillUsers();
        await this.load();
    }

    rerender() {
        this.fillActions();
        this.fillCameras();
        this.render();
    }

    // Loads the first page for the filter, or (more) the next older page.
    async load(more = false) {
        const f = this.filter();
        this.updateCsv();
        if (!f) {
            this.say(t('aud.badTime'), true);
            return;
        }
        const gen = ++this.generation;
        this.table.dataset.state = 'loading';
        if (!more) this.say(t('aud.loading'));
        this.more.disabled = true;
        let r;
        try {
            r = await api.audit(f, more ? this.next : undefined, PAGE);
        } catch (e) {
            if (gen !== this.generation) return;
            this.table.dataset.state = 'error';
            this.say(t('aud.error', { message: errorText(e) }), true);
            this.more.disabled = false;
            return;
        }
        if (gen !== this.generation) return;
        this.entries = more ? this.entries.concat(r.entries || []) : r.entries || [];
        this.next = r.next_before ?? null;
        this.render();
        this.table.dataset.state = 'ready';
    }

    say(text, error = false) {
        this.status.textContent = text;
        this.status.className = 'status' + (error ? ' error' : '');
    }

    render() {
        const names = new Map(this.cameras().map((c) => [c.id, c.name]));
        this.tbody.replaceChildren(...this.entries.map((e) => this.row(e, names)));
        this.table.dataset.entries = String(this.entries.length);
        this.more.hidden = this.next == null;
        this.more.disabled = false;
        const n = this.entries.length;
        if (this.table.dataset.state !== 'error') {
            this.say(!n ? t('aud.none') : t(this.next == null ? 'aud.count' : 'aud.countMore', { n }));
        }
    }

    row(e, names) {
        const tr = document.createElement('tr');
        tr.dataset.seq = String(e.seq);
        tr.dataset.action = e.action;
        tr.dataset.user = e.user;
        tr.dataset.outcome = e.outcome;
        if (e.camera != null) tr.dataset.camera = String(e.camera);
        const td = (text, cls, title) => {
            const c = document.createElement('td');
            c.textContent = text ?? '';
            if (cls) c.className = cls;
            if (title) c.title = title;
            tr.append(c);
            return c;
        };
        const ms = Date.parse(e.time);
        const time = document.createElement('time');
        time.dateTime = e.time;
        time.textContent = Number.isNaN(ms) ? e.time : fmtDateTime(ms);
        td('', 'time', `${e.time} (UTC) · #${e.seq}`).append(time);
        td(e.user || '—');
        td(e.action, 'action', tOr('act.' + e.action, ''));
        td(tOr('aud.out.' + e.outcome, e.outcome), 'outcome ' + e.outcome);
        td(e.camera == null ? '' : names.get(e.camera) || `#${e.camera}`);
        td(e.object);
        td(e.source);
        const detail = e.detail == null ? '' : typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail);
        td(detail, 'detail', detail);
        return tr;
    }
}
