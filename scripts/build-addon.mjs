#!/usr/bin/env node
// Builds the native addon (build/Release/netsock.node) with node-gyp, offline.
// `npm install` / `npm ci` run this as the package's install script.
//
// node-gyp on its own downloads Node's headers unless told where they are. A distribution's
// Node ships them in <prefix>/include/node, so point node-gyp there (--nodedir) instead of
// relying on an npmrc. node-gyp itself is the copy bundled with npm: no dependency needed.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = resolve(process.execPath, '..', '..');

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) {
  console.error('build-addon: node-gyp not found (it ships with npm); install npm or set npm_config_node_gyp');
  process.exit(1);
}
const args = [nodeGyp, 'rebuild'];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const started = Date.now();
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build-addon: node-gyp failed (exit ${r.status ?? r.signal}); the addon is needed for TCP MD5, TTL and BFD sockets.\n` +
    'It needs python3, make and a C++ compiler (Debian: apt-get install -y python3 make g++).');
  process.exit(r.status ?? 1);
}
console.log(`build-addon: build/Release/netsock.node built in ${Date.now() - started} ms`);
