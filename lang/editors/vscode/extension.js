// The persona extension: starts `persona lsp` (the language server in the persona binary) for
// .persona files. Highlighting comes from the TextMate grammars in syntaxes/, declared in package.json.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

// The server command from the settings: persona.server.path (default `persona`, found on PATH)
// and persona.server.args (default ["lsp"]).
function serverOptions(config) {
  const command = config.get('server.path') || 'persona';
  const args = config.get('server.args') || ['lsp'];
  return { command, args, transport: TransportKind.stdio };
}

function clientOptions() {
  return {
    documentSelector: [
      { scheme: 'file', language: 'persona' },
      { scheme: 'untitled', language: 'persona' },
    ],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{persona,tax,csv,toml}') },
  };
}

function activate(context) {
  const config = vscode.workspace.getConfiguration('persona');
  client = new LanguageClient('persona', 'persona language server', serverOptions(config), clientOptions());
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate, serverOptions, clientOptions };
