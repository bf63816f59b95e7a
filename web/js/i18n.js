// Every visible string of the console, in English, Lithuanian and Latvian, and the date
// formatting (Intl, in the browser's time zone and the chosen language).
// tests/web/check-i18n.mjs checks that the three tables hold the same keys and that every
// key the code and index.html use exists.

const en = {
    'app.name': 'Sargas',
    'app.title': 'Sargas console',
    'layout.group': 'Layout',
    'layout.1': 'One camera (key 1)',
    'layout.4': 'Grid of 4 (key 2)',
    'layout.9': 'Grid of 9 (key 3)',
    'layout.16': 'Grid of 16 (key 4)',
    'ctl.live': 'Live',
    'ctl.liveHint': 'Return all tiles to live video (L)',
    'ctl.play': 'Play (Space)',
    'ctl.pause': 'Pause (Space)',
    'ctl.back': 'Back 10 seconds (Left arrow)',
    'ctl.forward': 'Forward 10 seconds (Right arrow)',
    'ctl.backShort': '−10 s',
    'ctl.forwardShort': '+10 s',
    'ctl.datetime': 'Date and time',
    'ctl.go': 'Go',
    'ctl.goHint': 'Play recordings from this moment',
    'ctl.language': 'Language',
    'ctl.fullscreen': 'Full screen (F)',
    'ctl.download': 'Download',
    'ctl.downloadHint': 'Download the visible time window of the selected camera as MP4',
    'pos.label': 'Position',
    'pos.live': 'Live',
    'pos.paused': 'Paused',
    'cams.title': 'Cameras',
    'cams.hint': 'Click a camera to show it in the first free tile, or drag it onto a tile.',
    'cams.empty': 'No cameras yet.',
    'cams.error': 'Cannot load cameras: {message}',
    'state.connecting': 'Connecting…',
    'state.online': 'Online',
    'state.offline': 'Offline',
    'state.disabled': 'Disabled',
    'state.offlineSince': 'Offline since {time}',
    'tile.empty': 'Drop a camera here',
    'tile.label': 'Tile {n}',
    'tile.labelCamera': 'Tile {n}: {name}',
    'tile.remove': 'Remove the camera from this tile',
    'tile.unknownCamera': 'Unknown camera',
    'tile.reconnecting': 'Connection lost, reconnecting…',
    'tile.unsupported': 'This browser cannot play {codec} video.',
    'tile.error': 'Error: {message}',
    'tile.loading': 'Loading recording…',
    'tile.waiting': 'Buffering…',
    'tile.noRecording': 'No recording at this time',
    'tile.nextRecording': 'No recording here; the next one starts {time}',
    'tile.noPlayback': 'This browser cannot play recordings.',
    'badge.live': 'LIVE',
    'badge.playback': 'PLAYBACK',
    'tl.label': 'Timeline: click or drag to play recordings from that moment',
    'tl.zoom': 'Timeline zoom',
    'tl.zoomIn': 'Zoom in (+)',
    'tl.zoomOut': 'Zoom out (−)',
    'tl.z10m': '10 min',
    'tl.z1h': '1 h',
    'tl.z6h': '6 h',
    'tl.z24h': '24 h',
    'tl.now': 'now',
    'tl.kind.recording': 'recorded',
    'tl.kind.gap': 'not recorded',
    'tl.kind.motion': 'motion',
    'tl.kind.event': 'event',
    'health.ok': 'Server OK',
    'health.degraded': 'Server degraded',
    'health.down': 'Server unreachable',
    'health.cameras': '{online} of {total} cameras online',
    'health.storageFull': 'Storage full: {root}',
    'help.title': 'Keys',
    'help.text': '1–4 layout · Enter enlarge · Esc back · L live · Space play/pause · ←/→ 10 s · Shift+←/→ 1 min · +/− zoom · F full screen',
};

const lt = {
    'app.name': 'Sargas',
    'app.title': 'Sargas pultas',
    'layout.group': 'Išdėstymas',
    'layout.1': 'Viena kamera (klavišas 1)',
    'layout.4': '4 kamerų tinklelis (klavišas 2)',
    'layout.9': '9 kamerų tinklelis (klavišas 3)',
    'layout.16': '16 kamerų tinklelis (klavišas 4)',
    'ctl.live': 'Tiesiogiai',
    'ctl.liveHint': 'Grąžinti visus langelius į tiesioginį vaizdą (L)',
    'ctl.play': 'Leisti (tarpas)',
    'ctl.pause': 'Pristabdyti (tarpas)',
    'ctl.back': 'Atgal 10 sekundžių (rodyklė kairėn)',
    'ctl.forward': 'Pirmyn 10 sekundžių (rodyklė dešinėn)',
    'ctl.backShort': '−10 s',
    'ctl.forwardShort': '+10 s',
    'ctl.datetime': 'Data ir laikas',
    'ctl.go': 'Eiti',
    'ctl.goHint': 'Leisti įrašus nuo šios akimirkos',
    'ctl.language': 'Kalba',
    'ctl.fullscreen': 'Visas ekranas (F)',
    'ctl.download': 'Atsisiųsti',
    'ctl.downloadHint': 'Atsisiųsti matomą pasirinktos kameros laiko intervalą MP4 formatu',
    'pos.label': 'Padėtis',
    'pos.live': 'Tiesiogiai',
    'pos.paused': 'Pristabdyta',
    'cams.title': 'Kameros',
    'cams.hint': 'Spustelėkite kamerą, kad ji būtų rodoma pirmame laisvame langelyje, arba nutempkite ją ant langelio.',
    'cams.empty': 'Kamerų dar nėra.',
    'cams.error': 'Nepavyko įkelti kamerų: {message}',
    'state.connecting': 'Jungiamasi…',
    'state.online': 'Prisijungusi',
    'state.offline': 'Neprisijungusi',
    'state.disabled': 'Išjungta',
    'state.offlineSince': 'Neprisijungusi nuo {time}',
    'tile.empty': 'Nutempkite kamerą čia',
    'tile.label': 'Langelis {n}',
    'tile.labelCamera': 'Langelis {n}: {name}',
    'tile.remove': 'Pašalinti kamerą iš šio langelio',
    'tile.unknownCamera': 'Nežinoma kamera',
    'tile.reconnecting': 'Ryšys nutrūko, jungiamasi iš naujo…',
    'tile.unsupported': 'Ši naršyklė negali rodyti {codec} vaizdo.',
    'tile.error': 'Klaida: {message}',
    'tile.loading': 'Įkeliamas įrašas…',
    'tile.waiting': 'Buferizuojama…',
    'tile.noRecording': 'Šiuo metu įrašo nėra',
    'tile.nextRecording': 'Čia įrašo nėra; kitas prasideda {time}',
    'tile.noPlayback': 'Ši naršyklė negali leisti įrašų.',
    'badge.live': 'TIESIOGIAI',
    'badge.playback': 'ĮRAŠAS',
    'tl.label': 'Laiko juosta: spustelėkite arba tempkite, kad leistumėte įrašus nuo tos akimirkos',
    'tl.zoom': 'Laiko juostos mastelis',
    'tl.zoomIn': 'Padidinti (+)',
    'tl.zoomOut': 'Sumažinti (−)',
    'tl.z10m': '10 min.',
    'tl.z1h': '1 val.',
    'tl.z6h': '6 val.',
    'tl.z24h': '24 val.',
    'tl.now': 'dabar',
    'tl.kind.recording': 'įrašyta',
    'tl.kind.gap': 'neįrašyta',
    'tl.kind.motion': 'judesys',
    'tl.kind.event': 'įvykis',
    'health.ok': 'Serveris veikia',
    'health.degraded': 'Serverio veikimas sutrikęs',
    'health.down': 'Serveris nepasiekiamas',
    'health.cameras': 'Prisijungusių kamerų: {online} iš {total}',
    'health.storageFull': 'Saugykla pilna: {root}',
    'help.title': 'Klavišai',
    'help.text': '1–4 išdėstymas · Enter padidinti · Esc atgal · L tiesiogiai · Tarpas leisti/pristabdyti · ←/→ 10 s · Shift+←/→ 1 min. · +/− mastelis · F visas ekranas',
};

const lv = {
    'app.name': 'Sargas',
    'app.title': 'Sargas pults',
    'layout.group': 'Izkārtojums',
    'layout.1': 'Viena kamera (taustiņš 1)',
    'layout.4': '4 kameru režģis (taustiņš 2)',
    'layout.9': '9 kameru režģis (taustiņš 3)',
    'layout.16': '16 kameru režģis (taustiņš 4)',
    'ctl.live': 'Tiešraide',
    'ctl.liveHint': 'Atgriezt visus logus tiešraidē (L)',
    'ctl.play': 'Atskaņot (atstarpe)',
    'ctl.pause': 'Pauze (atstarpe)',
    'ctl.back': 'Atpakaļ 10 sekundes (bultiņa pa kreisi)',
    'ctl.forward': 'Uz priekšu 10 sekundes (bultiņa pa labi)',
    'ctl.backShort': '−10 s',
    'ctl.forwardShort': '+10 s',
    'ctl.datetime': 'Datums un laiks',
    'ctl.go': 'Iet',
    'ctl.goHint': 'Atskaņot ierakstus no šī brīža',
    'ctl.language': 'Valoda',
    'ctl.fullscreen': 'Pilnekrāna režīms (F)',
    'ctl.download': 'Lejupielādēt',
    'ctl.downloadHint': 'Lejupielādēt izvēlētās kameras redzamo laika intervālu MP4 formātā',
    'pos.label': 'Pozīcija',
    'pos.live': 'Tiešraide',
    'pos.paused': 'Pauzēts',
    'cams.title': 'Kameras',
    'cams.hint': 'Noklikšķiniet uz kameras, lai to parādītu pirmajā brīvajā logā, vai velciet to uz logu.',
    'cams.empty': 'Kameru vēl nav.',
    'cams.error': 'Neizdevās ielādēt kameras: {message}',
    'state.connecting': 'Savienojas…',
    'state.online': 'Tiešsaistē',
    'state.offline': 'Bezsaistē',
    'state.disabled': 'Atspējota',
    'state.offlineSince': 'Bezsaistē kopš {time}',
    'tile.empty': 'Nometiet kameru šeit',
    'tile.label': 'Logs {n}',
    'tile.labelCamera': 'Logs {n}: {name}',
    'tile.remove': 'Noņemt kameru no šī loga',
    'tile.unknownCamera': 'Nezināma kamera',
    'tile.reconnecting': 'Savienojums zudis, atjauno…',
    'tile.unsupported': 'Šī pārlūkprogramma nevar atskaņot {codec} video.',
    'tile.error': 'Kļūda: {message}',
    'tile.loading': 'Ielādē ierakstu…',
    'tile.waiting': 'Buferē…',
    'tile.noRecording': 'Šajā laikā ieraksta nav',
    'tile.nextRecording': 'Šeit ieraksta nav; nākamais sākas {time}',
    'tile.noPlayback': 'Šī pārlūkprogramma nevar atskaņot ierakstus.',
    'badge.live': 'TIEŠRAIDE',
    'badge.playback': 'IERAKSTS',
    'tl.label': 'Laika josla: noklikšķiniet vai velciet, lai atskaņotu ierakstus no šī brīža',
    'tl.zoom': 'Laika joslas mērogs',
    'tl.zoomIn': 'Tuvināt (+)',
    'tl.zoomOut': 'Tālināt (−)',
    'tl.z10m': '10 min',
    'tl.z1h': '1 h',
    'tl.z6h': '6 h',
    'tl.z24h': '24 h',
    'tl.now': 'tagad',
    'tl.kind.recording': 'ierakstīts',
    'tl.kind.gap': 'nav ierakstīts',
    'tl.kind.motion': 'kustība',
    'tl.kind.event': 'notikums',
    'health.ok': 'Serveris darbojas',
    'health.degraded': 'Servera darbība traucēta',
    'health.down': 'Serveris nav sasniedzams',
    'health.cameras': 'Tiešsaistē {online} no {total} kamerām',
    'health.storageFull': 'Krātuve pilna: {root}',
    'help.title': 'Taustiņi',
    'help.text': '1–4 izkārtojums · Enter palielināt · Esc atpakaļ · L tiešraide · Atstarpe atskaņot/pauze · ←/→ 10 s · Shift+←/→ 1 min · +/− mērogs · F pilnekrāns',
};

export const TABLES = { en, lt, lv };
export const LANGS = Object.keys(TABLES);
const STORE_KEY = 'sargas.lang';

let lang = pickLang();
let formats = null;

function pickLang() {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved && TABLES[saved]) return saved;
    for (const l of navigator.languages || [navigator.language || 'en']) {
        const base = String(l).toLowerCase().split('-')[0];
        if (TABLES[base]) return base;
    }
    return 'en';
}

export const getLang = () => lang;

export function setLang(l) {
    if (!TABLES[l]) return;
    lang = l;
    formats = null;
    localStorage.setItem(STORE_KEY, l);
    applyDom(document);
}

// t('key', {name: 'x'}): the string in the current language, {name} filled in.
export function t(key, params) {
    let s = TABLES[lang][key] ?? TABLES.en[key] ?? key;
    if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
    return s;
}

// Translates the static markup: data-i18n (text), data-i18n-aria (aria-label),
// data-i18n-title (title), data-i18n-placeholder.
export function applyDom(root) {
    document.documentElement.lang = lang;
    for (const e of root.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of root.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t(e.dataset.i18nAria));
    for (const e of root.querySelectorAll('[data-i18n-title]')) e.title = t(e.dataset.i18nTitle);
    for (const e of root.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
}

// The locale for dates: the browser's own when it is a variant of the chosen language
// (en-GB keeps day/month order), else the language itself.
function dateLocale() {
    for (const l of navigator.languages || [navigator.language]) {
        if (String(l).toLowerCase().split('-')[0] === lang) return l;
    }
    return lang;
}

function fmt() {
    if (!formats) {
        const loc = dateLocale();
        const hm = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
        formats = {
            time: new Intl.DateTimeFormat(loc, { ...hm, second: '2-digit' }),
            hm: new Intl.DateTimeFormat(loc, hm),
            day: new Intl.DateTimeFormat(loc, { month: 'short', day: 'numeric' }),
            dateTime: new Intl.DateTimeFormat(loc, {
                year: 'numeric', month: '2-digit', day: '2-digit', ...hm, second: '2-digit',
            }),
        };
    }
    return formats;
}

const sameDay = (a, b) => new Date(a).toDateString() === new Date(b).toDateString();

export const fmtTime = (ms) => fmt().time.format(ms);
export const fmtDateTime = (ms) => fmt().dateTime.format(ms);
// "since" moments: the time alone when today, else date and time.
export const fmtSince = (ms) => (sameDay(ms, Date.now()) ? fmt().hm.format(ms) : fmtDateTime(ms));
// Timeline labels: hours and minutes; the date at local midnight.
export const fmtTick = (ms, midnight) => (midnight ? fmt().day.format(ms) : fmt().hm.format(ms));
