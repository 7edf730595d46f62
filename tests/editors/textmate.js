// Loads the persona TextMate grammars with the engine VS Code uses (vscode-textmate on the
// Oniguruma WebAssembly build), from lang/editors/vscode and its node_modules.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const root = path.resolve(__dirname, '..', '..');
const extension = path.join(root, 'lang', 'editors', 'vscode');
const modules = path.join(extension, 'node_modules');

function requireFromExtension(name) {
  if (!fs.existsSync(path.join(modules, name))) {
    throw new Error(`${name} is not installed in ${modules}: run bash .ci/setup (npm ci in lang/editors/vscode)`);
  }
  return createRequire(path.join(extension, 'package.json'))(name);
}

async function registry() {
  const vsctm = requireFromExtension('vscode-textmate');
  const oniguruma = requireFromExtension('vscode-oniguruma');
  const wasm = fs.readFileSync(path.join(modules, 'vscode-oniguruma', 'release', 'onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const files = {
    'source.persona': 'persona.tmLanguage.json',
    'source.persona-tax': 'tax.tmLanguage.json',
  };
  const reg = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) => {
      const file = files[scope];
      if (!file) return null;
      const p = path.join(extension, 'syntaxes', file);
      return vsctm.parseRawGrammar(fs.readFileSync(p, 'utf8'), p);
    },
  });
  return { reg, INITIAL: vsctm.INITIAL };
}

// Tokens of a text: [{ line, start, end, text, scopes }].
async function tokenize(scope, text) {
  const { reg, INITIAL } = await registry();
  const grammar = await reg.loadGrammar(scope);
  if (!grammar) throw new Error(`no grammar for ${scope}`);
  let stack = INITIAL;
  const out = [];
  text.split('\n').forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      out.push({ line: i, start: t.startIndex, end: t.endIndex, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    }
    stack = r.ruleStack;
  });
  return out;
}

// The scopes at a column of a line.
function scopesAt(tokens, line, column) {
  const t = tokens.find((x) => x.line === line && x.start <= column && column < x.end);
  return t ? t.scopes : [];
}

module.exports = { root, extension, tokenize, scopesAt, requireFromExtension };
