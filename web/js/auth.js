// Signing in: the login page (the first-administrator form instead while no administrator
// exists), the account part of the top bar, and the dialog to change one's own password.
// Passwords and user names are checked here as the server checks them, so that most
// mistakes are explained before a request is made.
import { api, ApiError, setSession, currentSession } from './api.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

export const NAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;
export const utf8Length = (s) => new TextEncoder().encode(s).length;

// The problem with a new password (and its repetition), or null.
export function passwordProblem(pw, again) {
    const n = utf8Length(pw);
    if (n < 10 || n > 256) return t('auth.pwLength');
    if (again !== undefined && pw !== again) return t('auth.pwMismatch');
    return null;
}

// What to tell the user about a failed call (an ApiError, or a TypeError when the network failed).
export function errorText(e) {
    if (!(e instanceof ApiError)) return t('auth.network');
    switch (e.code) {
        case 'login_failed': return t('auth.failed');
        case 'rate_limited': return t('auth.rateLimited', { seconds: e.retryAfter ?? '?' });
        case 'csrf': return t('err.csrf');
        case 'forbidden': return t('err.forbidden');
        case 'conflict': case 'weak_password': case 'bad_request': return t('err.refused', { message: e.message });
        default: return t('err.generic', { message: e.message });
    }
}

// Shows `text` in the error paragraph `p` (hidden when empty).
export function showError(p, text, kind = 'error') {
    p.textContent = text || '';
    p.hidden = !text;
    p.className = kind;
}

export class LoginPage {
    // onSignedIn(sessionDocument) after a successful login or setup.
    constructor(onSignedIn) {
        this.onSignedIn = onSignedIn;
        this.root = $('login-page');
        this.form = $('login-form');
        this.setupForm = $('setup-form');
        this.waitTimer = null;
        this.waitUntil = 0;
        this.form.addEventListener('submit', (e) => { e.preventDefault(); this.login(); });
        this.setupForm.addEventListener('submit', (e) => { e.preventDefault(); this.setup(); });
    }

    get visible() { return !this.root.hidden; }

    // doc: the session document (user null); note: a key shown above the form, or null.
    show(doc, note) {
        const setup = !!(doc && doc.setup_required);
        this.root.hidden = false;
        this.form.hidden = setup;
        this.setupForm.hidden = !setup;
        const n = $('login-note');
        n.textContent = note ? t(note) : '';
        n.hidden = !note;
        $('login-password').value = '';
        showError($('login-error'), '');
        showError($('setup-error'), '');
        (setup ? $('setup-token') : $('login-user').value ? $('login-password') : $('login-user')).focus();
    }

    hide() {
        this.root.hidden = true;
        clearInterval(this.waitTimer);
        this.waitTimer = null;
    }

    busy(button, on, key) {
        button.disabled = on;
        button.textContent = t(on ? 'auth.signingIn' : key);
    }

    async login() {
        const user = $('login-user').value.trim(), password = $('login-password').value;
        const err = $('login-error'), button = $('login-submit');
        if (Date.now() < this.waitUntil) return;
        if (!user || !password) return showError(err, t('auth.missing'));
        this.busy(button, true);
        let doc = null;
        try {
            doc = await api.login(user, password);
        } catch (e) {
            this.busy(button, false, 'auth.signIn');
            $('login-password').value = '';
            $('login-password').focus();
            if (e instanceof ApiError && e.code === 'rate_limited') return this.rateLimited(e.retryAfter);
            return showError(err, errorText(e));
        }
        this.busy(button, false, 'auth.signIn');
        setSession(doc);
        this.onSignedIn(doc);
    }

    // The server refuses logins for `seconds`: count down, with the button off meanwhile.
    rateLimited(seconds) {
        const err = $('login-error'), button = $('login-submit');
        const s = Number(seconds) > 0 ? Number(seconds) : 60;
        this.waitUntil = Date.now() + s * 1000;
        clearInterval(this.waitTimer);
        const tick = () => {
            const left = Math.ceil((this.waitUntil - Date.now()) / 1000);
            if (left <= 0) {
                clearInterval(this.waitTimer);
                this.waitTimer = null;
                button.disabled = false;
                showError(err, '');
                return;
            }
            button.disabled = true;
            showError(err, t('auth.rateLimited', { seconds: left }));
        };
        tick();
        this.waitTimer = setInterval(tick, 1000);
    }

    async setup() {
        const token = $('setup-token').value.trim(), user = $('setup-user').value.trim();
        const pw = $('setup-password').value, pw2 = $('setup-password2').value;
        const err = $('setup-error'), button = $('setup-submit');
        if (!token || !user || !pw) return showError(err, t('auth.missing'));
        if (!NAME_RE.test(user)) return showError(err, t('auth.nameInvalid'));
        const bad = passwordProblem(pw, pw2);
        if (bad) return showError(err, bad);
        this.busy(button, true);
        let doc = null;
        try {
            doc = await api.setup(token, user, pw);
        } catch (e) {
            this.busy(button, false, 'setup.create');
            if (e instanceof ApiError && e.status === 403) {
                // Someone may have created the administrator meanwhile: then sign in instead.
                const now = await api.session().catch(() => null);
                if (now && !now.setup_required && !now.user) {
                    this.show(now);
                    return showError($('login-error'), t('setup.badToken'));
                }
                return showError(err, t('setup.badToken'));
            }
            return showError(err, errorText(e));
        }
        this.busy(button, false, 'setup.create');
        setSession(doc);
        this.onSignedIn(doc);
    }
}

// The account part of the top bar: who is signed in, with which role, at which site.
export function renderAccount() {
    const s = currentSession();
    if (!s) return;
    $('acct-user').textContent = s.user.name;
    $('acct-role').textContent = t('role.' + s.user.role);
    $('acct-role').title = t('acct.role');
    $('acct-site').textContent = s.site ? s.site.name : '';
    $('acct-site').title = t('acct.site');
}

// The dialog to change one's own password (the server ends the user's other sessions and
// starts a new one for this console: a new CSRF token comes with it).
export class PasswordDialog {
    constructor() {
        this.dialog = $('pw-dialog');
        this.form = $('pw-form');
        this.msg = $('pw-message');
        this.form.addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
        $('pw-cancel').addEventListener('click', () => this.dialog.close());
    }

    open() {
        for (const id of ['pw-current', 'pw-new', 'pw-new2']) $(id).value = '';
        showError(this.msg, '');
        $('pw-save').hidden = false;
        $('pw-cancel').textContent = t('acct.cancel');
        this.dialog.showModal();
        $('pw-current').focus();
    }

    async save() {
        const cur = $('pw-current').value, pw = $('pw-new').value, pw2 = $('pw-new2').value;
        if (!cur) return showError(this.msg, t('auth.missing'));
        const bad = passwordProblem(pw, pw2);
        if (bad) return showError(this.msg, bad);
        $('pw-save').disabled = true;
        try {
            setSession(await api.changePassword(cur, pw));
        } catch (e) {
            return showError(this.msg, e instanceof ApiError && e.code === 'forbidden' ? t('acct.wrongPassword') : errorText(e));
        } finally {
            $('pw-save').disabled = false;
        }
        for (const id of ['pw-current', 'pw-new', 'pw-new2']) $(id).value = '';
        showError(this.msg, t('acct.passwordChanged'), 'ok');
        $('pw-save').hidden = true;
        $('pw-cancel').textContent = t('acct.close');
    }
}
