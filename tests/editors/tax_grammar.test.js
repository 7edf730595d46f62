// The .tax grammar on the standard taxonomy: node names, descriptions, value options with weights,
// applicability conditions and comments.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { root, tokenize, scopesAt } = require('./textmate.js');

const has = (scopes, name) => scopes.some((s) => s === name || s.startsWith(name + '.'));
const dir = path.join(root, 'stdlib', 'taxonomy', 'core');

for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.tax')).sort()) {
  test(`stdlib/taxonomy/core/${file}: every line gets the scope of its kind`, async () => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const tokens = await tokenize('source.persona-tax', text);
    const counts = { node: 0, values: 0, weight: 0, condition: 0, comment: 0 };
    text.split('\n').forEach((line, i) => {
      const col = line.search(/\S/);
      if (col < 0) return;
      const at = (c) => scopesAt(tokens, i, c);
      const where = `${file}:${i + 1}`;
      if (line[col] === '#') {
        assert.ok(has(at(col), 'comment.line.number-sign'), `${where}: comment`);
        counts.comment++;
      } else if (line[col] === '=') {
        assert.ok(has(at(col), 'keyword.operator.values'), `${where}: '='`);
        assert.ok(has(at(col + 2), 'string.unquoted.option'), `${where}: first option`);
        const bar = line.indexOf(' | ');
        if (bar >= 0) assert.ok(has(at(bar + 1), 'punctuation.separator.option'), `${where}: '|'`);
        const w = line.search(/@\d/);
        if (w >= 0) {
          assert.ok(has(at(w + 1), 'constant.numeric.weight'), `${where}: weight`);
          counts.weight++;
        }
        counts.values++;
      } else if (line[col] === '?') {
        assert.ok(has(at(col), 'keyword.operator.condition'), `${where}: '?'`);
        counts.condition++;
      } else {
        assert.ok(has(at(col), 'entity.name.section.node'), `${where}: node name`);
        const bar = line.indexOf(' | ');
        if (bar >= 0) {
          assert.ok(has(at(bar + 1), 'punctuation.separator.description'), `${where}: '|'`);
          assert.ok(has(at(bar + 3), 'string.unquoted.description'), `${where}: description`);
        }
        counts.node++;
      }
    });
    assert.ok(counts.node > 10 && counts.values > 0, `${file}: ${JSON.stringify(counts)}`);
  });
}

test('a condition line scopes its facts, operators and numbers', async () => {
  const tokens = await tokenize('source.persona-tax', 'A | a\n  B | b\n    ? age >= 16 and employment in (student, retired)\n');
  const find = (t) => tokens.find((x) => x.text === t);
  assert.ok(has(find('age').scopes, 'variable.other.fact'));
  assert.ok(has(find('>=').scopes, 'keyword.operator.comparison'));
  assert.ok(has(find('16').scopes, 'constant.numeric'));
  assert.ok(has(find('and').scopes, 'keyword.operator.logical'));
  assert.ok(has(find('in').scopes, 'keyword.operator.logical'));
});

test('a support line of a mined taxonomy scopes its keyword and count, not a node name', async () => {
  const tokens = await tokenize('source.persona-tax', 'A | a\n  + support 12\n  B | b\n    + support 3\n');
  const find = (t) => tokens.find((x) => x.text === t);
  assert.ok(has(find('support').scopes, 'keyword.other.support'));
  assert.ok(has(find('12').scopes, 'constant.numeric.support'));
  assert.ok(!tokens.some((x) => x.text.includes('support') && has(x.scopes, 'entity.name.section.node')));
});
