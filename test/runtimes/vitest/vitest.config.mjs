// docs/runtimes.md, "Test runners": a VM pool resolves xentropy with the `module` condition.
export default {
  ssr: { resolve: { conditions: ['module', 'node', 'import'] } },
  test: { pool: 'vmThreads' },
};
