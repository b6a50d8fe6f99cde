// The import graph of src/: import loops and upward arrows between layers (docs/architecture.md).
//
//   node scripts/check-imports.mjs [--graph]
//
// Loops are strongly connected groups of files (type-only edges included: they still tie the files together).
// Layers, lowest first: errors.ts and text/, oci/, project/, config/, registry/, store/, stages/, then
// builder/, export/ and cleanup/ side by side, cli/, and index.ts; a file may import its own folder and lower
// layers only. A folder missing from LAYERS is reported, not guessed. Exits 1 when it finds a loop, an
// upward or sideways arrow, or an unknown folder. --graph also prints which folders each folder imports.
//
// The import statements are read by pattern (they start a line), not by the compiler: the TypeScript in
// node_modules has no JavaScript API.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LAYERS = {
  'errors.ts': 0,
  'version.ts': 0,
  'process-identity.ts': 0,
  go: 1,
  text: 2,
  oci: 3,
  project: 4,
  config: 5,
  registry: 6,
  store: 7,
  stages: 8,
  builder: 9,
  export: 9,
  cleanup: 9,
  operations: 10,
  cli: 11,
  'index.ts': 12,
};

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
})(src);

const STATEMENT =
  /^(?:import|export)(\s+type)?\s*(\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)\s*from\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

const rel = (f) => path.relative(src, f).split(path.sep).join('/');
const folderOf = (f) => rel(f).split('/')[0];
let problems = 0;

/** file → [{ target, typeOnly }] */
const graph = new Map();
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const deps = [];
  const add = (spec, typeOnly) => {
    if (!spec.startsWith('.')) return;
    const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    if (!fs.existsSync(target)) {
      console.log(`unresolved: ${rel(file)} imports ${spec}`);
      problems++;
      return;
    }
    deps.push({ target, typeOnly });
  };
  for (const m of text.matchAll(STATEMENT)) {
    const names = m[2] ?? '';
    const allTypes =
      names.startsWith('{') &&
      names
        .slice(1, -1)
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
        .every((name) => name.startsWith('type '));
    add(m[3] ?? m[4], Boolean(m[1]) || allTypes);
  }
  for (const m of text.matchAll(DYNAMIC)) add(m[1], false);
  graph.set(file, deps);
}

// Loops: Tarjan's strongly connected components.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const loops = [];
function connect(v) {
  index.set(v, counter);
  low.set(v, counter);
  counter++;
  stack.push(v);
  onStack.add(v);
  for (const { target: w } of graph.get(v) ?? []) {
    if (!index.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) {
      low.set(v, Math.min(low.get(v), index.get(w)));
    }
  }
  if (low.get(v) === index.get(v)) {
    const group = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) loops.push(group);
  }
}
for (const file of files) if (!index.has(file)) connect(file);

console.log(`${files.length} files; import loops: ${loops.length}`);
for (const group of loops) {
  problems++;
  console.log(`  loop: ${group.map(rel).sort().join(', ')}`);
  const members = new Set(group);
  for (const v of group) {
    for (const d of graph.get(v)) {
      if (members.has(d.target)) console.log(`    ${rel(v)} -> ${rel(d.target)}${d.typeOnly ? ' (type only)' : ''}`);
    }
  }
}

const arrows = [];
const unknown = new Set();
for (const [file, deps] of graph) {
  const from = folderOf(file);
  for (const d of deps) {
    const to = folderOf(d.target);
    if (from === to) continue;
    if (LAYERS[from] === undefined) unknown.add(from);
    if (LAYERS[to] === undefined) unknown.add(to);
    if (LAYERS[from] === undefined || LAYERS[to] === undefined) continue;
    if (LAYERS[to] >= LAYERS[from]) {
      arrows.push(`  ${rel(file)} -> ${rel(d.target)}${d.typeOnly ? ' (type only)' : ''} (${from} -> ${to}, ${LAYERS[to] > LAYERS[from] ? 'upward' : 'sideways'})`);
    }
  }
}
console.log(`upward or sideways arrows: ${arrows.length}`);
for (const line of arrows.sort()) console.log(line);
problems += arrows.length;
for (const folder of [...unknown].sort()) {
  problems++;
  console.log(`unknown folder (add it to LAYERS): ${folder}`);
}

if (process.argv.includes('--graph')) {
  const folders = new Map();
  for (const [file, deps] of graph) {
    for (const d of deps) {
      const from = folderOf(file);
      const to = folderOf(d.target);
      if (from === to) continue;
      if (!folders.has(from)) folders.set(from, new Set());
      folders.get(from).add(to);
    }
  }
  console.log('folder imports:');
  for (const [from, tos] of [...folders].sort()) console.log(`  ${from} -> ${[...tos].sort().join(', ')}`);
}

process.exitCode = problems > 0 ? 1 : 0;
