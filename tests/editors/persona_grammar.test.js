// The .persona grammar on every example: keywords, strings, numbers, comments and globs get the
// scopes a theme colours, whatever the recipe.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { root, tokenize, scopesAt } = require('./textmate.js');

function examples() {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.persona')) out.push(p);
    }
  };
  walk(path.join(root, 'examples'));
  return out.sort();
}

const has = (scopes, name) => scopes.some((s) => s === name || s.startsWith(name + '.'));
const STATEMENTS = ['recipe', 'import', 'extends', 'taxonomy', 'seed', 'table', 'distribution', 'anchor', 'story',
  'attributes', 'narrative', 'model', 'output'];

test('there are examples to tokenise', () => {
  assert.ok(examples().length >= 6, `found ${examples().length} examples`);
});

for (const file of examples()) {
  const name = path.relative(root, file);
  test(`${name}: comments, statement keywords, strings, numbers and globs have their scopes`, async () => {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const tokens = await tokenize('source.persona', text);
    assert.ok(!tokens.some((t) => t.scopes.some((s) => s.startsWith('invalid'))), 'no token is invalid');
    let inTriple = false;
    let checked = { comment: 0, keyword: 0, string: 0, number: 0, glob: 0 };
    lines.forEach((line, i) => {
      const triples = (line.match(/"""/g) || []).length;
      const startsInTriple = inTriple;
      if (triples % 2 === 1) inTriple = !inTriple;
      if (startsInTriple) {
        const col = line.search(/\S/);
        if (col >= 0 && !line.trimStart().startsWith('"""')) {
          assert.ok(has(scopesAt(tokens, i, col), 'string.quoted.triple'), `${name}:${i + 1}: prompt text is a string`);
          const ph = line.search(/\{[A-Za-z_]+\}/);
          if (ph >= 0) assert.ok(has(scopesAt(tokens, i, ph + 1), 'variable.other.placeholder'), `${name}:${i + 1}: {placeholder}`);
        }
        return;
      }
      // Mask strings so '#' and words inside them are not taken for comments or keywords.
      const masked = line.replace(/"(?:[^"\\]|\\.)*"/g, (m) => '"' + ' '.repeat(m.length - 2) + '"');
      const hash = masked.indexOf('#');
      if (hash >= 0) {
        assert.ok(has(scopesAt(tokens, i, hash), 'comment.line.number-sign'), `${name}:${i + 1}: comment`);
        assert.ok(has(scopesAt(tokens, i, line.length - 1), 'comment.line.number-sign'), `${name}:${i + 1}: comment to the end`);
        checked.comment++;
      }
      const code = hash >= 0 ? masked.slice(0, hash) : masked;
      const first = code.match(/^\s*([a-z]+)(?![\w-])/);
      if (first && STATEMENTS.includes(first[1])) {
        const col = code.indexOf(first[1]);
        assert.ok(has(scopesAt(tokens, i, col), 'keyword.control.statement'), `${name}:${i + 1}: '${first[1]}' is a statement keyword`);
        checked.keyword++;
      }
      for (const m of code.matchAll(/"[^"]*"/g)) {
        if (m[0] === '"""' || m[0].startsWith('""')) continue;
        const inside = m.index + 1;
        if (inside >= m.index + m[0].length - 1) continue;
        const scopes = scopesAt(tokens, i, inside);
        assert.ok(has(scopes, 'string.quoted.double'), `${name}:${i + 1}: ${line.substr(m.index, m[0].length)} is a string`);
        checked.string++;
        if (/^\s*(include|exclude|always)\s+"$/.test(code.slice(0, m.index + 1))) {
          assert.ok(has(scopes, 'string.quoted.double.glob'), `${name}:${i + 1}: a glob string`);
          const star = line.indexOf('*', m.index);
          if (star >= 0 && star < m.index + m[0].length) {
            assert.ok(has(scopesAt(tokens, i, star), 'keyword.operator.glob'), `${name}:${i + 1}: glob wildcard`);
          }
          const slash = line.indexOf('/', m.index);
          if (slash >= 0 && slash < m.index + m[0].length) {
            assert.ok(has(scopesAt(tokens, i, slash), 'punctuation.separator.path'), `${name}:${i + 1}: path separator`);
          }
          checked.glob++;
        }
      }
      if (/^\s*(include|exclude)\s+\*/.test(code)) {
        assert.ok(has(scopesAt(tokens, i, code.indexOf('*')), 'keyword.operator.glob'), `${name}:${i + 1}: bare *`);
        checked.glob++;
      }
      for (const m of code.matchAll(/(?<![\w.-])-?\d+(?:\.\d+)?(?![\w])/g)) {
        assert.ok(has(scopesAt(tokens, i, m.index), 'constant.numeric'), `${name}:${i + 1}: ${m[0]} is a number`);
        checked.number++;
      }
    });
    assert.ok(checked.keyword > 0 && checked.string + checked.comment > 0, `${name}: nothing was checked`);
  });
}

test('the quickstart tokenises as written: each construct with its scope', async () => {
  const text = fs.readFileSync(path.join(root, 'examples', 'quickstart.persona'), 'utf8');
  const tokens = await tokenize('source.persona', text);
  const find = (t, line) => tokens.find((x) => x.text === t && (line === undefined || x.line === line));
  const lineOf = (s) => text.split('\n').findIndex((l) => l.includes(s));
  assert.ok(has(find('anchor').scopes, 'keyword.control.statement'));
  assert.ok(has(find('country', lineOf('anchor country')).scopes, 'variable.other.definition.anchor'));
  assert.ok(has(find('stdlib.countries').scopes, 'support.constant.stdlib'));
  assert.ok(has(find('truncate').scopes, 'keyword.other'));
  assert.ok(has(find('..', lineOf('truncate 18..90')).scopes, 'keyword.operator.range'));
  assert.ok(has(find('values', lineOf('values    <-')).scopes, 'entity.name.function.step'));
  assert.ok(has(find('<-').scopes, 'keyword.operator.arrow'));
  assert.ok(has(find('in', lineOf('employment in')).scopes, 'keyword.operator.logical'));
  assert.ok(has(find('random-bfs').scopes, 'constant.language'));
  assert.ok(has(find('long-tail').scopes, 'constant.language'));
  assert.ok(has(find('first-person').scopes, 'constant.language'));
  assert.ok(has(find('0.8').scopes, 'constant.numeric'));
  assert.ok(has(find('**').scopes, 'keyword.operator.glob'));
});

test('distribution families, escapes and a string left open are scoped, and the next line recovers', async () => {
  const text = 'anchor h ~ normal(168, 9) clamp 140..205\nanchor n = "say \\"hi\\" {name}\nseed 3\n';
  const tokens = await tokenize('source.persona', text);
  assert.ok(has(tokens.find((t) => t.text === 'normal').scopes, 'support.function.distribution'));
  assert.ok(has(tokens.find((t) => t.text === '\\"').scopes, 'constant.character.escape'));
  assert.ok(has(tokens.find((t) => t.text === '{name}').scopes, 'variable.other.placeholder'));
  assert.ok(has(tokens.find((t) => t.text === 'seed').scopes, 'keyword.control.statement'), 'an unterminated string ends at the line');
});
