import { defineConfig } from 'vitest/config'

// Tiers: `unit` needs no server; `integration` starts real nats-server / chDB / clickhouse-server.
// Slow tiers (fault loops, clusters, browsers) get their own project so the fast tier runs alone.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // chDB and nats-server are heavy; two cores.
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
      {
        test: {
          // Real npm installs (registry, pack, TypeScript builds) through the compiled CLI.
          name: 'slow',
          include: ['test/slow/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          maxWorkers: 2,
          fileParallelism: true,
        },
      },
      {
        test: {
          // kill -9 loops and server restarts; repeat counts from TRIB_FAULT_REPEATS (default 2).
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          sequence: { groupOrder: 3 },
          testTimeout: 600_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        test: {
          // Fleets: several worker processes, a 3-node nats cluster, leader kills; one file at a time.
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          sequence: { groupOrder: 4 },
          testTimeout: 300_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        test: {
          // Debian's headless Chromium driving pages the runtime serves (the push sink's live view).
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          sequence: { groupOrder: 5 },
          testTimeout: 180_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
})
