// The layers of docs/architecture.md, checked: doors -> http -> core -> store, and no import cycles.
// `npm run lint` runs it after eslint; a violation fails the run and names the two modules.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Modules that import each other, however indirectly, cannot be understood or loaded one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-not-http-or-doors',
      severity: 'error',
      comment: 'The core never sees XML or HTTP.',
      from: { path: '^src/core/' },
      to: { path: '^src/(http|doors)/' },
    },
    {
      name: 'door-not-store',
      severity: 'error',
      comment: 'A door never touches SQL: it calls the core, which calls the store.',
      from: { path: '^src/doors/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'http-not-doors',
      severity: 'error',
      comment: 'The pipeline serves whichever doors it is given; it does not know them.',
      from: { path: '^src/http/' },
      to: { path: '^src/doors/' },
    },
    {
      name: 'store-is-the-bottom',
      severity: 'error',
      comment: 'The store knows nothing of the core, HTTP or the doors.',
      from: { path: '^src/store/' },
      to: { path: '^src/(core|http|doors)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a door that names a store type depends on the store's shape.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|build|node_modules)/' },
  },
};
