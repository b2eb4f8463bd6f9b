// Parses every ```mermaid block of the Markdown files given with Mermaid's own parser (the one
// GitHub renders with) and exits 1 naming each block it refuses. Run with NODE_PATH set to the
// node_modules of scripts/install-mermaid.sh.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(resolve(process.env.NODE_PATH.split(':')[0]) + '/');
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import(require.resolve('mermaid'))).default;
mermaid.initialize({ startOnLoad: false });

let checked = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const blocks = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
  for (const [i, block] of blocks.entries()) {
    checked += 1;
    try {
      const r = await mermaid.parse(block);
      if (!r || !r.diagramType) throw new Error('no diagram type');
      console.log(`${file} #${i + 1}: ${r.diagramType}`);
    } catch (e) {
      failed += 1;
      console.log(`${file} #${i + 1}: REFUSED: ${String(e.message).split('\n').slice(0, 3).join(' ')}\n${block}`);
    }
  }
}
console.log(`${checked} chart(s) checked, ${failed} refused`);
process.exit(failed > 0 || checked === 0 ? 1 : 0);
