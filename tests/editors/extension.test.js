// The VS Code extension's manifest and client, without VS Code: the manifest declares the languages
// and grammars that exist, and activate() starts `persona lsp` for .persona documents.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { extension } = require('./textmate.js');

const manifest = JSON.parse(fs.readFileSync(path.join(extension, 'package.json'), 'utf8'));

test('the manifest declares both languages, and every grammar and configuration file it names exists', () => {
  const langs = manifest.contributes.languages.map((l) => l.id);
  assert.deepStrictEqual(langs, ['persona', 'persona-tax']);
  assert.deepStrictEqual(manifest.contributes.languages[0].extensions, ['.persona']);
  assert.deepStrictEqual(manifest.contributes.languages[1].extensions, ['.tax']);
  for (const l of manifest.contributes.languages) assert.ok(fs.existsSync(path.join(extension, l.configuration)), l.configuration);
  for (const g of manifest.contributes.grammars) {
    const grammar = JSON.parse(fs.readFileSync(path.join(extension, g.path), 'utf8'));
    assert.strictEqual(grammar.scopeName, g.scopeName);
  }
  assert.strictEqual(manifest.contributes.configuration.properties['persona.server.path'].default, 'persona');
  assert.deepStrictEqual(manifest.contributes.configuration.properties['persona.server.args'].default, ['lsp']);
});

test('activate() starts `persona lsp` over stdio for persona documents, with the configured binary', async () => {
  // Installed (so the extension can be packaged), resolved without loading it: it needs VS Code.
  const resolved = Module.createRequire(path.join(extension, 'package.json')).resolve('vscode-languageclient/node');
  assert.ok(resolved.startsWith(path.join(extension, 'node_modules')), resolved);
  const started = [];
  const settings = { 'server.path': '/opt/persona/bin/persona' };
  const vscode = {
    workspace: {
      getConfiguration: (section) => {
        assert.strictEqual(section, 'persona');
        return { get: (k) => settings[k] };
      },
      createFileSystemWatcher: (glob) => ({ glob }),
    },
  };
  class LanguageClient {
    constructor(id, name, server, client) {
      Object.assign(this, { id, name, server, client });
    }
    start() {
      started.push(this);
      return Promise.resolve();
    }
    stop() {
      return Promise.resolve();
    }
  }
  const stubs = { vscode, 'vscode-languageclient/node': { LanguageClient, TransportKind: { stdio: 0 } } };
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    if (Object.prototype.hasOwnProperty.call(stubs, request)) return stubs[request];
    return load.call(this, request, parent, isMain);
  };
  try {
    delete require.cache[path.join(extension, 'extension.js')];
    const ext = require(path.join(extension, 'extension.js'));
    const context = { subscriptions: [] };
    await ext.activate(context);
    assert.strictEqual(started.length, 1);
    const c = started[0];
    assert.strictEqual(c.server.command, '/opt/persona/bin/persona');
    assert.deepStrictEqual(c.server.args, ['lsp']);
    assert.deepStrictEqual(c.client.documentSelector.map((d) => d.language), ['persona', 'persona']);
    assert.strictEqual(context.subscriptions.length, 1);
    await ext.deactivate();
  } finally {
    Module._load = load;
  }
});
