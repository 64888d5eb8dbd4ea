/**
 * ACS's dependency rules (docs/architecture.md has the picture). `npm test` runs them over src and console/src;
 * test/architecture.test.ts shows each rule can fail. Paths are relative to where depcruise runs (the repository).
 */

// Layers of src/, lowest first: a module may import its own layer and the layers below it, never one above.
// sim/ and world/ (the demo world) sit above the product, and cli/ (the composition root) above everything.
const LAYERS = [
  ['lib', 'contracts', 'clock.ts', 'config.ts', 'errors.ts'],
  ['trust'],
  ['store'],
  ['views'],
  ['ledger', 'bus'],
  // Webhooks out read the ledger and nothing above it; the API and the processes (server.ts) use them.
  ['webhooks'],
  ['records'],
  ['sense'],
  ['knowledge'],
  ['ground'],
  ['reason'],
  ['learn', 'assure'],
  ['act'],
  ['privacy'],
  ['supervisor'],
  ['loop'],
  ['pipeline'],
  ['api'],
  ['server.ts'],
  ['sim'],
  ['world'],
  ['cli'],
];

// Known exceptions, each one import; keep this list short and say why.
const EXCEPTIONS = {
  // records writes contacts and leads, and identity's person records must change in the same transaction. Inverting
  // it needs a hook inside the writer's transaction, which the bus (delivering after commit) does not offer.
  upward: [{ from: '^src/records/records\\.ts$', to: '^src/sense/identity/people\\.ts$' }],
};

const folder = (name) => (name.endsWith('.ts') ? `^src/${name.replace('.', '\\.')}$` : `^src/${name}/`);
const any = (names) => `(${names.map(folder).join('|')})`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('-').replace(/\.ts/g, '')}`,
  comment: `${layer.join(', ')} may not import a higher layer (${LAYERS.slice(i + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: any(layer), pathNot: EXCEPTIONS.upward.map((e) => e.from) },
  to: { path: any(LAYERS.slice(i + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles in src/: a module that needs something back from a module that imports it gets a file of its own for it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-demo-world-in-product',
      comment: 'Product code never imports the demo world (src/sim, src/world); only the CLI, the composition root, wires it in.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(sim|world|cli)/' },
      to: { path: '^src/(sim|world)/' },
    },
    {
      name: 'contracts-import-nothing',
      comment: 'Contracts import nothing of the product, so anything (the console too) can depend on them.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: '^src/', pathNot: '^src/contracts/' },
    },
    {
      name: 'lib-imports-nothing',
      comment: 'Shared utilities know nothing of ACS.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'console-only-api-contract',
      comment: 'The console imports only itself and the API contract (src/contracts/api), never server code.',
      severity: 'error',
      from: { path: '^console/src/' },
      // node_modules unanchored: it may resolve through a symlink to a shared install.
      to: { pathNot: ['^console/src/', '^src/contracts/api/', 'node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-deep-imports',
      comment:
        "Top-level modules of src/ import each other only through the other's index.ts (its surface); the HTTP " +
        'contract (src/contracts/api/index.ts) is a surface of its own, the one the console may import.',
      severity: 'error',
      from: { path: '^src/([^/]+)', pathNot: EXCEPTIONS.upward.map((e) => e.from) },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/contracts/api/index\\.ts$'] },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle of types is still a cycle for a reader (madge counts them too).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
