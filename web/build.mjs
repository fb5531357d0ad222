// Bundles the map page offline (esbuild, from node_modules) into OUTDIR:
// index.html, app.js (Leaflet, topojson-client and the world-atlas basemap
// inside) and app.css. Usage: node build.mjs OUTDIR
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: node build.mjs OUTDIR');
  process.exit(64);
}
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src', 'app.js') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir,
  loader: { '.json': 'json', '.png': 'dataurl', '.svg': 'dataurl' },
  logLevel: 'warning',
  legalComments: 'eof',
});
copyFileSync(join(here, 'src', 'index.html'), join(outdir, 'index.html'));
