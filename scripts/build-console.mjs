#!/usr/bin/env node
// Bundles the web console (web/console: Preact + uPlot) into dist/console/app.js and app.css, at
// package build time: `pipeline up` serves them, `load --report` and `trace --html` inline them.
import { build } from 'esbuild'
import { dirname, join, resolve } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const outdir = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist', 'console')

await build({
  entryPoints: { app: join(root, 'web', 'console', 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  legalComments: 'none',
  // The bundle goes inline into <script> in the self-contained pages.
  supported: { 'inline-script': false },
  logLevel: 'warning',
})
