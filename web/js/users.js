// The users page: the accounts of the signed-in user's site. An administrator (users.admin)
// creates users, changes role / all cameras / disabled, sets a new password, edits the
// per-camera grants (allow, deny or nothing per camera, saved at once with PUT .../grants),
// ends a user's sessions and deletes users; an auditor (users.read) sees the same, read-only.
import { api, can, currentSession } from './api.js';
import { t, fmtDateTime } from './i18n.js';
import { NAME_RE, passwordProblem, errorText, showError } from './auth.js';

export const ROLES = ['admin', 'operator', 'investigator', 'viewer', 'auditor'];

const $ = (id) => document.getElementById(id);
const when = (iso) => (iso ? fmtDateTime(Date.parse(iso)) : '');

function cell(tr, text, title) {
    const td = document.createElement('td');
    td.textContent = text;
    if (title) td.title = title;
    tr.append(td);
    return td;
}

export class UsersPage {
    // cameras(): the cameras of the console (the grants editor lists them);
    // onSelfChanged(): the signed-in user changed their own account (the console reloads).
    constructor({ cameras, onSelfChanged }) {
        this.cameras = cameras;
        this.onSelfChanged = onSelfChanged;
        this.users = [];
        this.selected = null;     // user id
        this.detail = null;       // GET /users/{id}: the user and its grants
        this.tbody = $('users-table').querySelector('tbody');
        this.status = $('user-edit-status');
        this.fillRoles();
        $('user-new').addEventListener('submit', (e) => { e.preventDefault(); this.create(); });
        $('user-props').addEventListener('submit', (e) => { e.preventDefault(); this.saveProps(); });
        $('user-grants').addEventListener('submit', (e) => { e.preventDefault(); this.saveGrants(); });
        $('user-password').addEventListener('submit', (e) => { e.preventDefault(); this.setPassword(); });
        $('user-end-sessions').addEventListener('click', () => this.endSessions());
        $('user-delete').addEventListener('click', () => this.remove());
        this.tbody.addEventListener('click', (e) => {
            const tr = e.target.closest('tr[data-id]');
            if (tr) this.select(Number(tr.dataset.id));
        });
        this.tbody.addEventListener('keydown', (e) => {
            const tr = e.target.closest('tr[data-id]');
            if (tr && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); this.select(Number(tr.dataset.id)); }
        });
    }

    fillRoles() {
        for (const sel of document.querySelectorAll('select[data-roles]')) {
            const v = sel.value || 'operator';
            sel.replaceChildren(...ROLES.map((r) => {
                const o = document.createElement('option');
                o.value = r;
                o.textContent = t('role.' + r);
                o.defaultSelected = r === 'operator';   // what a form reset comes back to
                return o;
            }));
            sel.value = v;
        }
    }

    // The language changed.
    rerender() {
        this.fillRoles();
        this.renderList();
        if (this.detail) this.renderDetail(false);
    }

    async show() {
        await this.load();
    }

    async load() {
        const note = $('users-note');
        try {
            this.users = await api.users();
            note.hidden = true;
        } catch (e) {
            note.textContent = t('usr.error', { message: errorText(e) });
            note.hidden = false;
            return;
        }
        this.renderList();
        if (this.selected != null && this.users.some((u) => u.id === this.selected)) await this.select(this.selected, false);
        else this.close();
    }

    renderList() {
        const me = currentSession() && currentSession().user.id;
        this.tbody.replaceChildren(...this.users.map((u) => {
            const tr = document.createElement('tr');
            tr.dataset.id = String(u.id);
            tr.dataset.user = u.name;
            tr.tabIndex = 0;
            tr.setAttribute('aria-selected', String(u.id === this.selected));
            cell(tr, u.id === me ? t('usr.you', { name: u.name }) : u.name);
            cell(tr, t('role.' + u.role));
            cell(tr, t(u.all_cameras ? 'usr.camsAll' : 'usr.camsGranted'));
            cell(tr, t(u.disabled ? 'usr.inactive' : 'usr.active')).className = u.disabled ? 'state disabled' : 'state online';
            cell(tr, when(u.updated), u.updated);
            return tr;
        }));
    }

    close() {
        this.selected = null;
        this.detail = null;
        $('user-edit').hidden = true;
        for (const tr of this.tbody.children) tr.setAttribute('aria-selected', 'false');
    }

    async select(id, clearStatus = true) {
        this.selected = id;
        for (const tr of this.tbody.children) tr.setAttribute('aria-selected', String(Number(tr.dataset.id) === id));
        if (clearStatus) this.say('');
        try {
            this.detail = await api.user(id);
        } catch (e) {
            this.detail = null;
            this.say(errorText(e), true);
            return;
        }
        this.renderDetail(true);
    }

    // Fills the edit panel from this.detail; `fresh`: also the form values (not just labels).
    renderDetail(fresh) {
        const u = this.detail;
        const me = currentSession() && currentSession().user.id === u.id;
        $('user-edit').hidden = false;
        $('user-edit').dataset.user = u.name;
        $('user-edit-title').textContent = me ? t('usr.you', { name: u.name }) : u.name;
        $('user-edit-meta').textContent = t('usr.meta', { created: when(u.created), updated: when(u.updated) });
        $('user-edit-fields').disabled = !can('users.admin');
        if (fresh) {
            $('edit-role').value = u.role;
            $('user-props').querySelector(`input[name="scope"][value="${u.all_cameras ? 'all' : 'granted'}"]`).checked = true;
            $('edit-disabled').checked = !!u.disabled;
            $('reset-password').value = '';
            $('reset-password2').value = '';
        }
        this.renderGrants(fresh);
    }

    renderGrants(fresh) {
        const tbody = $('user-grants').querySelector('tbody');
        const cams = this.cameras();
        const held = new Map((this.detail.grants || []).map((g) => [g.camera, g.access]));
        const current = new Map();
        if (!fresh) {
            for (const input of tbody.querySelectorAll('input[type="radio"]:checked')) {
                current.set(Number(input.dataset.camera), input.value);
            }
        }
        if (!cams.length) {
            const tr = document.createElement('tr');
            const td = cell(tr, t('usr.noCameras'));
            td.colSpan = 4;
            tbody.replaceChildren(tr);
            return;
        }
        tbody.replaceChildren(...cams.map((cam) => {
            const tr = document.createElement('tr');
            tr.dataset.camera = String(cam.id);
            tr.setAttribute('role', 'radiogroup');
            tr.setAttribute('aria-label', t('usr.grantFor', { name: cam.name }));
            cell(tr, cam.name);
            const value = current.has(cam.id) ? current.get(cam.id) : held.get(cam.id) || '';
            for (const [v, key] of [['', 'usr.grantNone'], ['allow', 'usr.grantAllow'], ['deny', 'usr.grantDeny']]) {
                const td = document.createElement('td');
                const input = document.createElement('input');
                input.type = 'radio';
                input.name = `grant-${cam.id}`;
                input.value = v;
                input.dataset.camera = String(cam.id);
                input.checked = v === value;
                input.setAttribute('aria-label', t(key));
                td.append(input);
                tr.append(td);
            }
            return tr;
        }));
    }

    say(text, error = false) {
        this.status.textContent = text;
        this.status.className = 'status' + (error ? ' error' : text ? ' ok' : '');
    }

    async run(fn, okText) {
        try {
            await fn();
        } catch (e) {
            this.say(errorText(e), true);
            return false;
        }
        if (okText) this.say(okText);
        return true;
    }

    async create() {
        const form = $('user-new');
        const err = $('new-error');
        const name = $('new-name').value.trim(), role = $('new-role').value;
        const pw = $('new-password').value, pw2 = $('new-password2').value;
        const all = form.querySelector('input[name="scope"]:checked').value === 'all';
        if (!NAME_RE.test(name)) return showError(err, t('auth.nameInvalid'));
        const bad = passwordProblem(pw, pw2);
        if (bad) return showError(err, bad);
        $('new-create').disabled = true;
        let u;
        try {
            u = await api.createUser({ name, role, password: pw, all_cameras: all });
        } catch (e) {
            return showError(err, errorText(e));
        } finally {
            $('new-create').disabled = false;
        }
        showError(err, '');
        form.reset();
        this.selected = u.id;
        await this.load();
        this.say(t('usr.created', { name: u.name }));
    }

    async saveProps() {
        const u = this.detail;
        if (!u) return;
        const changes = {
            role: $('edit-role').value,
            all_cameras: $('user-props').querySelector('input[name="scope"]:checked').value === 'all',
            disabled: $('edit-disabled').checked,
        };
        if (await this.run(() => api.updateUser(u.id, changes), t('usr.saved'))) {
            if (currentSession().user.id === u.id) return this.onSelfChanged();
            await this.load();
        }
    }

    async saveGrants() {
        const u = this.detail;
        if (!u) return;
        const shown = new Set();
        const grants = [];
        for (const input of $('user-grants').querySelectorAll('input[type="radio"]')) {
            const cam = Number(input.dataset.camera);
            shown.add(cam);
            if (input.checked && input.value) grants.push({ camera: cam, access: input.value });
        }
        // grants on cameras this console does not list stay as they are
        for (const g of u.grants || []) if (!shown.has(g.camera)) grants.push(g);
        if (await this.run(() => api.setGrants(u.id, grants), t('usr.grantsSaved'))) {
            if (currentSession().user.id === u.id) return this.onSelfChanged();
            await this.select(u.id, false);
        }
    }

    async setPassword() {
        const u = this.detail;
        if (!u) return;
        const pw = $('reset-password').value, pw2 = $('reset-password2').value;
        const bad = passwordProblem(pw, pw2);
        if (bad) return this.say(bad, true);
        if (await this.run(() => api.updateUser(u.id, { password: pw }), t('usr.passwordSet'))) {
            $('reset-password').value = '';
            $('reset-password2').value = '';
        }
    }

    async endSessions() {
        const u = this.detail;
        if (!u) return;
        let n = 0;
        if (await this.run(async () => { n = (await api.endSessions(u.id)).revoked; })) {
            this.say(t('usr.sessionsEnded', { n }));
        }
    }

    async remove() {
        const u = this.detail;
        if (!u || !window.confirm(t('usr.confirmDelete', { name: u.name }))) return;
        if (await this.run(() => api.deleteUser(u.id))) {
            this.close();
            await this.load();
            this.say(t('usr.deleted', { name: u.name }));
        }
    }
}
