#!/usr/bin/env node
// Checks the console's translations (node, no dependencies):
//   - the tables en, lt, lv in web/js/i18n.js hold the same keys, none empty, with the
//     same {placeholders};
//   - every key the code uses exists: t('key') calls, key-like string literals in
//     web/js/*.js ('ns.name' where ns is a namespace of the tables; a literal ending in '.'
//     is a prefix that some key must start with), and data-i18n* attributes in index.html.
// Exits 1 with one line per problem.
//   node tests/web/check-i18n.mjs [WEB_DIR]
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = process.argv[2] || join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const problems = [];
const fail = (msg) => problems.push(msg);

const i18nSrc = readFileSync(join(web, 'js', 'i18n.js'), 'utf8');
const LANGS = ['en', 'lt', 'lv'];
const tables = {};
for (const lang of LANGS) {
    const m = i18nSrc.match(new RegExp(`^const ${lang} = (\\{[\\s\\S]*?\\n\\});`, 'm'));
    if (!m) { fail(`i18n.js: no table "const ${lang} = {...};"`); continue; }
    try {
        tables[lang] = Function(`"use strict"; return (${m[1]});`)();
    } catch (e) {
        fail(`i18n.js: table ${lang} does not parse: ${e.message}`);
    }
}

const placeholders = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
const all = new Set(LANGS.flatMap((l) => Object.keys(tables[l] || {})));
for (const key of all) {
    for (const lang of LANGS) {
        const tab = tables[lang];
        if (!tab) continue;
        if (!(key in tab)) { fail(`key "${key}" missing in ${lang}`); continue; }
        if (typeof tab[key] !== 'string' || !tab[key].trim()) fail(`key "${key}" is empty in ${lang}`);
        else if (tables.en && key in tables.en && placeholders(tab[key]) !== placeholders(tables.en[key])) {
            fail(`key "${key}": placeholders in ${lang} differ from en`);
        }
    }
}

const known = (key) => all.has(key);
const namespaces = new Set([...all].map((k) => k.split('.')[0]));
let used = 0;
const check = (key, where) => {
    used++;
    if (key.endsWith('.')) {
        if (![...all].some((k) => k.startsWith(key))) fail(`${where}: no key starts with "${key}"`);
    } else if (!known(key)) {
        fail(`${where}: key "${key}" is not in the tables`);
    }
};

const jsDir = join(web, 'js');
for (const file of readdirSync(jsDir).filter((f) => f.endsWith('.js'))) {
    if (file === 'i18n.js') continue;
    const src = readFileSync(join(jsDir, file), 'utf8');
    const lines = src.split('\n');
    lines.forEach((line, i) => {
        const where = `web/js/${file}:${i + 1}`;
        for (const m of line.matchAll(/\bt\(\s*(['"`])([^'"`]+)\1/g)) check(m[2], where);
        for (const m of line.matchAll(/(['"])([a-z][\w]*\.[\w.]*)\1/g)) {
            const key = m[2];
            if (!namespaces.has(key.split('.')[0])) continue;
            if (line.slice(Math.max(0, m.index - 3), m.index).match(/\bt\($/)) continue;   // counted above
            check(key, where);
        }
    });
}

const html = readFileSync(join(web, 'index.html'), 'utf8');
html.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/\bdata-i18n(?:-[a-z]+)?="([^"]*)"/g)) check(m[1], `web/index.html:${i + 1}`);
});

if (used === 0) fail('no translation keys found in use (is the web directory right?)');
if (problems.length) {
    for (const p of problems) console.error('check-i18n: ' + p);
    process.exit(1);
}
console.log(`check-i18n: ${all.size} keys in ${LANGS.join(', ')}; ${used} uses checked`);
